// The broker's network side: a blocking accept loop and one thread per connection (see kafka.h).
#include <signal.h>

#include <atomic>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>

#include "kafka/connection_stream.h"
#include "kafka/dispatch.h"
#include "kafka/group_coordinator.h"
#include "kafka/kafka.h"
#include "kafka/sasl_session.h"
#include "kafka/producer_state.h"
#include "net/url.h"

namespace sf::kafka {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// The broker keeps the users' salted credentials only (SaslCredentials), not the passwords it was given.
BrokerOptions without_sasl_passwords(BrokerOptions options) {
  options.security.sasl_users.clear();
  return options;
}

bool uses_tls(SecurityProtocol p) {
  return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl;
}
bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

class BrokerImpl final : public Broker {
 public:
  BrokerImpl(bus::Bus& bus, const BrokerOptions& options)
      : options_(without_sasl_passwords(options)),
        groups_(bus, options_),
        producers_(bus),
        state_{bus, options_, groups_, {}, 0, &producers_},
        acceptor_(ioc_) {}
  ~BrokerImpl() override { stop(); }

  // The TLS context and SASL credentials of the listener's security protocol (kafka.h BrokerSecurity).
  Status configure_security(const BrokerSecurity& security) {
    if (uses_tls(security.protocol)) {
      auto context = make_tls_server_context(security.tls_cert_file, security.tls_key_file);
      if (!context) return context.status();
      tls_ = std::move(*context);
    }
    if (uses_sasl(security.protocol)) {
      if (security.sasl_mechanisms.empty())
        return Status::invalid_argument("a SASL listener needs at least one SASL mechanism");
      for (const auto& m : security.sasl_mechanisms) {
        if (m != "PLAIN" && !scram_hash_for(m))
          return Status::invalid_argument(
              fmt::format("unsupported SASL mechanism '{}' (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN)", m));
      }
      if (security.scram_iterations < kScramMinIterations)
        return Status::invalid_argument(fmt::format("SCRAM iterations must be >= {}", kScramMinIterations));
      if (security.sasl_users.empty()) spdlog::warn("kafka: SASL listener without users: nobody can connect");
      sasl_credentials_ = std::make_unique<SaslCredentials>(security.sasl_users, security.scram_iterations);
      sasl_config_.emplace(SaslConfig{*sasl_credentials_, options_.security.sasl_mechanisms});
    }
    return Status::ok();
  }

  Status bind() {
    auto hp = net::parse_host_port(options_.listen);
    if (!hp) return hp.status();
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(hp->host, std::to_string(hp->port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
      return Status::invalid_argument(fmt::format("cannot resolve listen address '{}'", options_.listen));
    const tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::io_error(fmt::format("cannot listen on {}: {}", options_.listen, ec.message()));
    const tcp::endpoint bound = acceptor_.local_endpoint();
    std::string host = hp->host;
    if (!options_.advertised_host.empty()) {
      host = options_.advertised_host;
    } else if (host == "0.0.0.0" || host == "::" || host.empty()) {
      host = "127.0.0.1";
    }
    state_.advertised_host = host;
    state_.advertised_port = bound.port();
    address_ = net::HostPort{hp->host, bound.port()}.to_string();
    accept_thread_ = std::thread([this] { accept_loop(); });
    return Status::ok();
  }

  std::string address() const override { return address_; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    boost::system::error_code ec;
    acceptor_.cancel(ec);
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    if (accept_thread_.joinable()) accept_thread_.join();
    std::list<Connection> connections;
    {
      std::lock_guard lock(mu_);
      for (auto& c : connections_) ::shutdown(c.socket->native_handle(), SHUT_RDWR);
      connections.swap(connections_);
    }
    for (auto& c : connections) {
      if (c.thread.joinable()) c.thread.join();
    }
    groups_.stop();
  }

 private:
  struct Connection {
    std::shared_ptr<tcp::socket> socket;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void reap_locked() {
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->done->load()) {
        if (it->thread.joinable()) it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_loop() {
    while (!stopped_) {
      auto socket = std::make_shared<tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (stopped_) return;
      if (ec) {
        spdlog::warn("kafka: accept: {}", ec.message());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      std::lock_guard lock(mu_);
      reap_locked();
      if (static_cast<int32_t>(connections_.size()) >= options_.max_connections) {
        spdlog::warn("kafka: connection limit {} reached: closing a new connection",
                     options_.max_connections);
        socket->close(ec);
        continue;
      }
      socket->set_option(tcp::no_delay(true), ec);
      auto done = std::make_shared<std::atomic<bool>>(false);
      Connection& c = connections_.emplace_back(Connection{socket, {}, done});
      c.thread = std::thread([this, socket, done] {
        serve(*socket);
        done->store(true);
      });
    }
  }

  void serve(tcp::socket& socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string client =
        ec ? std::string("?") : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    ConnectionStream stream(socket, tls_.get());
    if (Status s = stream.handshake(); !s) {
      spdlog::warn("kafka: {}: {}: closing the connection", client, s.message());
      stream.shutdown();
      return;
    }
    std::optional<SaslSession> sasl;
    if (sasl_config_) sasl.emplace(*sasl_config_);
    SaslSession* session = sasl ? &*sasl : nullptr;
    std::string frame, response;
    while (!stopped_) {
      char size_bytes[4];
      stream.read(asio::buffer(size_bytes, 4), ec);
      if (ec) break;  // closed by the client (or by stop())
      const int32_t size =
          static_cast<int32_t>((static_cast<uint32_t>(static_cast<uint8_t>(size_bytes[0])) << 24) |
                               (static_cast<uint32_t>(static_cast<uint8_t>(size_bytes[1])) << 16) |
                               (static_cast<uint32_t>(static_cast<uint8_t>(size_bytes[2])) << 8) |
                               static_cast<uint32_t>(static_cast<uint8_t>(size_bytes[3])));
      // A bare SASL token (after a v0 SaslHandshake) may be shorter than a request header.
      const int32_t min_size = session != nullptr && session->expects_raw_token() ? 0 : 8;
      if (size < min_size || size > options_.max_request_bytes) {
        spdlog::warn("kafka: {}: request size {} outside [8, {}]: closing the connection", client, size,
                     options_.max_request_bytes);
        break;
      }
      frame.resize(static_cast<std::size_t>(size));
      stream.read(asio::buffer(frame.data(), frame.size()), ec);
      if (ec) {
        spdlog::warn("kafka: {}: truncated request ({}): closing the connection", client, ec.message());
        break;
      }
      const DispatchResult r = dispatch_connection_request(state_, session, frame, client, response);
      if (r == DispatchResult::kClose) break;
      if (r == DispatchResult::kNoResponse) continue;
      stream.write(asio::buffer(response), ec);
      if (ec) break;
      if (session != nullptr && session->close_after_reply()) break;  // failed authentication
    }
    stream.shutdown();  // the socket is closed when its last owner lets go
  }

  const BrokerOptions options_;
  GroupCoordinator groups_;
  std::unique_ptr<asio::ssl::context> tls_;            // SSL, SASL_SSL
  std::unique_ptr<SaslCredentials> sasl_credentials_;  // SASL_PLAINTEXT, SASL_SSL
  std::optional<SaslConfig> sasl_config_;
  ProducerStateTable producers_;
  BrokerState state_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::string address_;
  std::atomic<bool> stopped_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<Connection> connections_;
};

}  // namespace

Result<std::unique_ptr<Broker>> Broker::start(bus::Bus& bus, const BrokerOptions& options) {
  if (options.default_partitions < 1) return Status::invalid_argument("default_partitions must be >= 1");
  auto broker = std::make_unique<BrokerImpl>(bus, options);
  SF_RETURN_IF_ERROR(broker->configure_security(options.security));
  SF_RETURN_IF_ERROR(broker->bind());
  return std::unique_ptr<Broker>(std::move(broker));
}

int run_broker(const BrokerOptions& options, const bus::EmbeddedBusOptions& bus_options, std::FILE* out) {
  // Block the signals before any thread exists, so that only sigwait below receives them.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  auto bus = bus::open_embedded_bus(bus_options);
  if (!bus) {
    std::fprintf(stderr, "error: %s\n", bus.status().to_string().c_str());
    return 1;
  }
  auto broker = Broker::start(**bus, options);
  if (!broker) {
    std::fprintf(stderr, "error: %s\n", broker.status().to_string().c_str());
    return 1;
  }
  std::fprintf(out, "listening on %s\n", (*broker)->address().c_str());
  std::fflush(out);
  spdlog::info("kafka: broker serving {} on {} ({})", bus_options.dir.string(), (*broker)->address(),
               security_protocol_name(options.security.protocol));
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("kafka: signal {} received, stopping", sig);
  (*broker)->stop();
  broker->reset();
  Status synced = (*bus)->sync();
  if (!synced) spdlog::error("kafka: final sync: {}", synced.to_string());
  bus->reset();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

}  // namespace sf::kafka
