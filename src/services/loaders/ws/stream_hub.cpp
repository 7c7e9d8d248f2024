// The shared stream connections (see stream_hub.h).
#include "services/loaders/ws/stream_hub.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace sf::services::loaders {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

// The `stream` of a combined-stream frame, which always starts {"stream":"<name>",...
std::string_view stream_of(std::string_view frame) {
  constexpr std::string_view kPrefix = "{\"stream\":\"";
  if (!frame.starts_with(kPrefix)) return {};
  const size_t end = frame.find('"', kPrefix.size());
  if (end == std::string_view::npos) return {};
  return frame.substr(kPrefix.size(), end - kPrefix.size());
}

std::string control_frame(std::string_view method, const std::vector<std::string>& params, uint64_t id) {
  std::string out = fmt::format("{{\"method\":\"{}\",\"params\":[", method);
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    out += params[i];  // stream names are [a-z0-9@_]: nothing to escape
    out += '"';
  }
  out += fmt::format("],\"id\":{}}}", id);
  return out;
}

}  // namespace

struct StreamHub::Impl : std::enable_shared_from_this<StreamHub::Impl> {
  Impl(std::string url, StreamHubOptions o)
      : base_url(std::move(url)),
        options(std::move(o)),
        work(ioc.get_executor()),
        timer(ioc),
        rng(std::random_device{}()) {
    while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  }

  struct Conn {
    std::shared_ptr<exchange::StreamConnection> link;       // null while waiting to (re)connect
    std::set<std::string> streams;                          // streams this connection carries
    std::vector<std::string> to_subscribe, to_unsubscribe;  // control frames still to send
    bool open = false;
    SteadyClock::time_point opened_at{}, retry_at{}, next_control{}, retire_at{};
    int failures = 0;
    uint64_t replacement = 0;  // renewal: the connection taking over
    bool retiring = false;     // renewal: close at retire_at
  };

  std::string base_url;
  const StreamHubOptions options;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  asio::steady_timer timer;
  std::thread thread;

  mutable std::mutex mu;  // guards everything below
  std::mt19937_64 rng;
  bool stopping = false;
  uint64_t next_conn = 0, next_request = 0;
  std::map<uint64_t, Conn> conns;
  std::map<std::string, std::vector<std::shared_ptr<StreamSink>>, std::less<>> sinks;
  StreamHubStats counters;

  void start() {
    thread = std::thread([this] { ioc.run(); });
    asio::post(ioc, [self = shared_from_this()] { self->tick(); });
  }

  void shutdown() {
    std::vector<std::shared_ptr<exchange::StreamConnection>> links;
    {
      std::lock_guard lock(mu);
      stopping = true;
      for (auto& [id, c] : conns) {
        if (c.link) links.push_back(c.link);
      }
      conns.clear();
      sinks.clear();
    }
    for (auto& l : links) l->close();
    asio::post(ioc, [this] { timer.cancel(); });
    work.reset();
    // Give the closing handshakes a moment, then stop whatever is left.
    asio::steady_timer deadline(ioc, std::chrono::milliseconds(500));
    deadline.async_wait([this](boost::system::error_code) { ioc.stop(); });
    if (thread.joinable()) thread.join();
  }

  // --- subscriptions (any thread)

  void add(const std::string& stream, std::shared_ptr<StreamSink> sink) {
    std::lock_guard lock(mu);
    auto& list = sinks[stream];
    list.push_back(std::move(sink));
    if (list.size() > 1) return;  // already carried
    for (auto& [id, c] : conns) {
      if (c.retiring || c.replacement != 0 ||
          static_cast<int>(c.streams.size()) >= options.max_streams_per_connection)
        continue;
      c.streams.insert(stream);
      if (c.link) c.to_subscribe.push_back(stream);  // open or connecting: after the handshake
      return;
    }
    // A new connection, opened on the next tick with every stream added until then in its URL.
    Conn c;
    c.streams.insert(stream);
    c.retry_at = SteadyClock::now();
    conns.emplace(++next_conn, std::move(c));
  }

  void remove(const std::string& stream, const StreamSink* sink) {
    std::shared_ptr<exchange::StreamConnection> to_close;
    std::lock_guard lock(mu);
    auto it = sinks.find(stream);
    if (it == sinks.end()) return;
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& s) { return s.get() == sink; }),
               list.end());
    if (!list.empty()) return;
    sinks.erase(it);
    for (auto c = conns.begin(); c != conns.end();) {
      if (c->second.streams.erase(stream) == 0) {
        ++c;
        continue;
      }
      auto& pending = c->second.to_subscribe;
      pending.erase(std::remove(pending.begin(), pending.end(), stream), pending.end());
      if (c->second.streams.empty()) {
        if (c->second.link) c->second.link->close();
        c = conns.erase(c);
        continue;
      }
      if (c->second.link) c->second.to_unsubscribe.push_back(stream);
      ++c;
    }
  }

  // --- the hub's thread

  void tick() {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      const auto now = SteadyClock::now();
      for (auto& [id, c] : conns) maintain(id, c, now);
      for (auto it = conns.begin(); it != conns.end();) {
        // A retired connection whose replacement took over, gone once closed.
        if (it->second.retiring && !it->second.link) {
          it = conns.erase(it);
        } else {
          ++it;
        }
      }
    }
    timer.expires_after(
        std::min<std::chrono::milliseconds>(options.control_interval, std::chrono::milliseconds(100)));
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->tick();
    });
  }

  void maintain(uint64_t id, Conn& c, SteadyClock::time_point now) {
    if (!c.link) {
      if (!c.retiring && now >= c.retry_at && !c.streams.empty()) connect(id, c);
      return;
    }
    if (!c.open) return;
    if (c.retiring) {
      if (now >= c.retire_at) c.link->close();
      return;
    }
    if (now >= c.next_control && (!c.to_subscribe.empty() || !c.to_unsubscribe.empty())) {
      auto& pending = !c.to_subscribe.empty() ? c.to_subscribe : c.to_unsubscribe;
      const bool subscribe = !c.to_subscribe.empty();
      const size_t n = std::min(pending.size(), options.max_params_per_subscribe);
      std::vector<std::string> params(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(n));
      pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(n));
      c.link->send(control_frame(subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", params, ++next_request));
      c.next_control = now + options.control_interval;
    }
    if (c.replacement == 0 && now - c.opened_at >= options.renew_after) {
      // Renewal: a new connection with the same streams; this one retires once the new one is up.
      Conn fresh;
      fresh.streams = c.streams;
      fresh.retry_at = now;
      c.replacement = ++next_conn;
      ++counters.renewals;
      const uint64_t fresh_id = c.replacement;
      asio::post(ioc, [self = shared_from_this(), fresh_id, fresh = std::move(fresh)]() mutable {
        std::lock_guard lock(self->mu);
        if (!self->stopping) self->conns.emplace(fresh_id, std::move(fresh));
      });
    }
  }

  void connect(uint64_t id, Conn& c) {
    std::string url = base_url + "/stream?streams=";
    c.to_subscribe.clear();
    c.to_unsubscribe.clear();
    size_t n = 0;
    for (const auto& s : c.streams) {
      if (n < options.max_url_streams) {
        if (n > 0) url += '/';
        url += s;
      } else {
        c.to_subscribe.push_back(s);
      }
      ++n;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    exchange::StreamConnectionHandlers h;
    h.on_open = [weak, id] {
      if (auto self = weak.lock()) self->on_open(id);
    };
    h.on_message = [weak](std::string&& frame) {
      if (auto self = weak.lock()) self->on_message(std::move(frame));
    };
    h.on_close = [weak, id](const Status& why) {
      if (auto self = weak.lock()) self->on_close(id, why);
    };
    auto link = exchange::StreamConnection::create(ioc, url, options.connection, std::move(h));
    if (!link) {
      spdlog::error("loader-ws: cannot connect to {}: {}", base_url, link.status().to_string());
      c.retry_at = SteadyClock::now() + options.max_backoff;
      return;
    }
    c.link = *link;
    c.open = false;
    c.link->start();
  }

  void on_open(uint64_t id) {
    std::lock_guard lock(mu);
    auto it = conns.find(id);
    if (it == conns.end()) return;
    Conn& c = it->second;
    c.open = true;
    c.failures = 0;
    c.opened_at = SteadyClock::now();
    c.next_control = c.opened_at;
    ++counters.connections_opened;
    // A replacement is up: the connection it replaces retires after the overlap.
    for (auto& [other_id, other] : conns) {
      if (other.replacement == id) {
        other.retiring = true;
        other.retire_at = c.opened_at + options.renew_overlap;
        // Streams subscribed to the old one meanwhile move over.
        for (const auto& s : other.streams) {
          if (c.streams.insert(s).second) c.to_subscribe.push_back(s);
        }
      }
    }
  }

  void on_message(std::string&& frame) {
    const std::string_view stream = stream_of(frame);
    std::lock_guard lock(mu);
    if (stream.empty()) {
      // A reply to a control frame: {"result":null,"id":N} or {"error":{...},"id":N}.
      if (frame.find("\"error\"") != std::string::npos)
        spdlog::warn("loader-ws: the exchange says {}", frame);
      return;
    }
    auto it = sinks.find(stream);
    if (it == sinks.end()) return;  // unsubscribed meanwhile
    ++counters.frames;
    auto& list = it->second;
    for (size_t i = 0; i + 1 < list.size(); ++i) list[i]->on_frame(std::string(frame));
    list.back()->on_frame(std::move(frame));
  }

  void on_close(uint64_t id, const Status& why) {
    std::lock_guard lock(mu);
    if (stopping) return;
    auto it = conns.find(id);
    if (it == conns.end()) return;
    Conn& c = it->second;
    const bool was_open = c.open;
    c.link.reset();
    c.open = false;
    if (c.retiring) return;  // its replacement carries the streams; tick() erases it
    ++counters.disconnects;
    spdlog::warn("loader-ws: connection to {} ({} streams) lost: {}", base_url, c.streams.size(),
                 why.is_ok() ? std::string("closed by the exchange") : why.to_string());
    for (const auto& s : c.streams) {
      auto sk = sinks.find(s);
      if (sk == sinks.end()) continue;
      for (auto& sink : sk->second) sink->on_disconnect(why);
    }
    if (c.replacement != 0 && conns.count(c.replacement)) {
      // Its replacement is on the way (the exchange's lifetime ended first): nothing to reopen.
      conns.erase(it);
      return;
    }
    c.replacement = 0;
    c.failures = was_open ? 1 : c.failures + 1;
    const int64_t initial = std::max<int64_t>(1, options.initial_backoff.count());
    const int64_t d = std::min<int64_t>(options.max_backoff.count(), initial << std::min(c.failures - 1, 20));
    std::uniform_int_distribution<int64_t> jitter(d / 2, d);
    c.retry_at = SteadyClock::now() + std::chrono::milliseconds(jitter(rng));
  }
};

namespace {

class HubSubscription final : public StreamHub::Subscription {
 public:
  HubSubscription(std::shared_ptr<StreamHub::Impl> impl, std::string stream, const StreamSink* sink)
      : impl_(std::move(impl)), stream_(std::move(stream)), sink_(sink) {}
  ~HubSubscription() override { impl_->remove(stream_, sink_); }

 private:
  std::shared_ptr<StreamHub::Impl> impl_;
  std::string stream_;
  const StreamSink* sink_;
};

}  // namespace

StreamHub::StreamHub(std::string base_url, StreamHubOptions options)
    : impl_(std::make_shared<Impl>(std::move(base_url), std::move(options))) {
  impl_->start();
}

StreamHub::~StreamHub() {
  impl_->shutdown();
}

std::shared_ptr<StreamHub> StreamHub::shared(std::string_view base_url) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<StreamHub>, std::less<>> hubs;
  std::lock_guard lock(mu);
  auto it = hubs.find(base_url);
  if (it != hubs.end()) {
    if (auto hub = it->second.lock()) return hub;
  }
  auto hub = std::make_shared<StreamHub>(std::string(base_url));
  hubs[std::string(base_url)] = hub;
  return hub;
}

Result<std::unique_ptr<StreamHub::Subscription>> StreamHub::subscribe(std::string stream,
                                                                      std::shared_ptr<StreamSink> sink) {
  if (stream.empty()) return Status::invalid_argument("empty stream name");
  if (!sink) return Status::invalid_argument("no sink for stream " + stream);
  const StreamSink* raw = sink.get();
  impl_->add(stream, std::move(sink));
  return std::unique_ptr<Subscription>(std::make_unique<HubSubscription>(impl_, std::move(stream), raw));
}

StreamHubStats StreamHub::stats() const {
  std::lock_guard lock(impl_->mu);
  StreamHubStats s = impl_->counters;
  s.open_connections = 0;
  for (const auto& [id, c] : impl_->conns) s.open_connections += c.open ? 1 : 0;
  return s;
}

}  // namespace sf::services::loaders
