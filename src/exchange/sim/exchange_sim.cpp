// The simulator: every endpoint of endpoints.h behind Binance's weight limits, headers and the faults.
#include "exchange/sim/exchange_sim.h"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>

#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {
namespace {

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

net::HttpServerOptions server_options(const ExchangeSimOptions& o) {
  net::HttpServerOptions s;
  s.threads = std::max(1, o.threads);
  s.server_header = "streamforge-exchange-sim";
  return s;
}

}  // namespace

struct ExchangeSim::Impl {
  explicit Impl(ExchangeSimOptions o)
      : options(std::move(o)),
        symbols(options.extra_symbols, options.activity),
        market(symbols),
        limiter(options.rate_limit),
        faults(options.faults),
        server(server_options(options)),
        clock(options.clock ? options.clock : system_now_ms),
        streams(market, symbols, clock, options.streams),
        bulk(market, clock, options.bulk) {
    add_all(AllEndpoints{});
    streams.attach(server);
    bulk.install(server);
  }

  ExchangeSimOptions options;
  SymbolTable symbols;
  SimMarket market;
  RateLimiter limiter;
  FaultInjector faults;
  net::HttpServer server;
  std::function<int64_t()> clock;
  StreamServer streams;
  BulkFileTree bulk;

  template <typename... E>
  void add_all(EndpointList<E...>) {
    (add<E>(), ...);
  }

  template <typename E>
  void add() {
    server.route_async("GET", std::string(E::kPath), [this](const net::HttpRequest& req, net::Responder r) {
      serve<E>(req, std::move(r));
    });
  }

  template <typename E>
  void serve(const net::HttpRequest& req, net::Responder responder) {
    FaultInjector::Plan plan = faults.next();
    if (plan.kind == FaultInjector::Kind::kDrop)
      return finish(std::move(responder), plan.latency_ms, std::nullopt);

    int64_t now = clock();
    RestParams params(req.query);
    RateLimiter::Decision d = limiter.charge(req.remote_address, E::weight(params), now);
    net::HttpResponse res;
    res.headers.set("Content-Type", "application/json;charset=UTF-8");
    res.headers.set("X-MBX-USED-WEIGHT-1M", std::to_string(d.used_weight));
    res.headers.set("x-mbx-used-weight", std::to_string(d.used_weight));

    auto fail = [&res](const ApiError& e) {
      res.status = e.http_status;
      res.body = e.body();
    };
    if (d.verdict == RateLimiter::Verdict::kTooMuchWeight) {
      fail(api_errors::too_much_weight(limiter.weight_limit()));
      res.headers.set("Retry-After", std::to_string(d.retry_after_s));
    } else if (d.verdict == RateLimiter::Verdict::kBanned) {
      fail(api_errors::ip_banned(d.banned_until_ms));
      res.headers.set("Retry-After", std::to_string(d.retry_after_s));
    } else if (plan.kind == FaultInjector::Kind::kError) {
      fail(plan.error);
    } else if (auto dup = params.check_duplicates()) {
      fail(*dup);
    } else {
      SimContext ctx{symbols, market, now, limiter.weight_limit(), options.agg_trades_max_window_ms};
      RestReply reply;
      try {
        reply = E::handle(ctx, params);
      } catch (const std::exception& e) {
        spdlog::error("exchange-sim {} failed: {}", req.target, e.what());
        reply = RestReply::error(api_errors::unknown());
      }
      res.status = reply.status;
      res.body = std::move(reply.body);
      if (plan.kind == FaultInjector::Kind::kMalformed && res.status == 200) {
        res.body = FaultInjector::malform(res.body, plan.cut);
      }
    }
    finish(std::move(responder), plan.latency_ms, std::move(res));
  }

  // Answers (or drops) now, or after `latency_ms` on a timer without holding a server thread.
  static void finish(net::Responder r, int latency_ms, std::optional<net::HttpResponse> res) {
    if (latency_ms <= 0) {
      if (res) {
        r.send(std::move(*res));
      } else {
        r.drop();
      }
      return;
    }
    auto timer =
        std::make_shared<boost::asio::steady_timer>(r.executor(), std::chrono::milliseconds(latency_ms));
    timer->async_wait([timer, r = std::move(r), res = std::move(res)](boost::system::error_code) mutable {
      if (res) {
        r.send(std::move(*res));
      } else {
        r.drop();
      }
    });
  }
};

ExchangeSim::ExchangeSim(ExchangeSimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ExchangeSim::~ExchangeSim() {
  stop();
}

Result<std::string> ExchangeSim::start() {
  auto address = impl_->server.listen(impl_->options.listen);
  if (address) impl_->streams.start();
  return address;
}
void ExchangeSim::stop() {
  impl_->streams.stop();
  impl_->server.stop();
}
const std::string& ExchangeSim::address() const {
  return impl_->server.address();
}
std::string ExchangeSim::base_url() const {
  return "http://" + impl_->server.address();
}
void ExchangeSim::set_bulk_faults(const BulkFaults& faults) {
  impl_->bulk.set_faults(faults);
}
void ExchangeSim::set_faults(const FaultOptions& faults) {
  impl_->faults.set(faults);
}
void ExchangeSim::set_weight_limit(int limit) {
  impl_->limiter.set_weight_limit(limit);
}
int64_t ExchangeSim::now_ms() const {
  return impl_->clock();
}
const SymbolTable& ExchangeSim::symbols() const {
  return impl_->symbols;
}
const SimMarket& ExchangeSim::market() const {
  return impl_->market;
}
net::HttpServer& ExchangeSim::server() {
  return impl_->server;
}
StreamServer& ExchangeSim::streams() {
  return impl_->streams;
}
std::string ExchangeSim::ws_url() const {
  return "ws://" + impl_->server.address();
}

int run_exchange_sim(ExchangeSimOptions options, std::FILE* out) {
  // Block the signals before the server threads exist, so that only sigwait below receives them.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  ExchangeSim sim(std::move(options));
  auto address = sim.start();
  if (!address) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw Error(address.status());
  }
  std::fprintf(out, "listening on %s\n", address->c_str());
  std::fflush(out);
  spdlog::info("exchange-sim serving {} symbols on http://{} (REST /api/v3/)", sim.symbols().all().size(),
               *address);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("exchange-sim: signal {} received, stopping", sig);
  sim.stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

}  // namespace sf::exchange::sim
