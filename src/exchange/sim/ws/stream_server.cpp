// The simulator's market streams: connections, subscriptions, limits, faults and the pushing thread.
#include "exchange/sim/ws/stream_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "exchange/sim/ws/depth_stream.h"
#include "exchange/sim/ws/stream_events.h"
#include "exchange/sim/ws/stream_name.h"

namespace sf::exchange::sim {
namespace {

using Json = nlohmann::json;
using SteadyTime = std::chrono::steady_clock::time_point;
using ws::StreamKind;
using ws::StreamName;

constexpr int kMaxEventsPerTick = 200'000;  // per stream: bounds one tick's work after a long pause
constexpr int kMaxCandlesPerTick = 10'000;  // closed candles per kline stream and tick

std::string error_reply(int code, std::string_view msg, const Json& id) {
  Json j;
  j["error"] = {{"code", code}, {"msg", msg}};
  j["id"] = id;
  return j.dump();
}

std::string result_reply(const Json& result, const Json& id) {
  Json j;
  j["result"] = result;
  j["id"] = id;
  return j.dump();
}

// Binance accepts a 64-bit integer, an alphanumeric string of at most 36 characters, or null.
bool valid_request_id(const Json& id) {
  if (id.is_null() || id.is_number_integer()) return true;
  if (!id.is_string()) return false;
  const auto& s = id.get_ref<const std::string&>();
  return s.size() <= 36 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
         });
}

}  // namespace

struct StreamServer::Impl : std::enable_shared_from_this<StreamServer::Impl> {
  Impl(const SimMarket& m, const SymbolTable& s, std::function<int64_t()> c, StreamServerOptions o)
      : market(m), symbols(s), clock(std::move(c)), options(o), faults(o.faults), rng(o.faults.seed) {}

  struct Client {
    std::shared_ptr<net::WebSocketConnection> conn;
    bool combined = true;
    std::vector<std::string> streams;  // in subscription order (LIST_SUBSCRIPTIONS)
    SteadyTime opened, last_pong, last_ping;
    std::deque<SteadyTime> incoming;  // arrival times of the last second's incoming messages
    SteadyTime stalled_until{};
    SteadyTime next_burst{};
    std::vector<std::string> held;      // burst mode: messages waiting for the next burst
    std::vector<std::string> outgoing;  // this tick's messages, handed to the connection together
  };

  struct Stream {
    StreamName name;
    const SymbolMarket* market = nullptr;
    int64_t next_id = 0;          // trade / aggTrade: the next id to push
    int64_t next_close_open = 0;  // kline: open time of the next candle to push closed
    int64_t last_partial = std::numeric_limits<int64_t>::min();  // kline: when the open candle was pushed
    std::unique_ptr<ws::DepthStream> depth;  // kDepth
    std::vector<uint64_t> subscribers;
    std::vector<std::string> payloads;  // this tick's events
  };

  const SimMarket& market;
  const SymbolTable& symbols;
  std::function<int64_t()> clock;
  const StreamServerOptions options;

  mutable std::mutex mu;  // guards everything below
  StreamFaultOptions faults;
  std::mt19937_64 rng;
  uint64_t next_client = 0;
  std::map<uint64_t, Client> clients;
  std::map<std::string, Stream, std::less<>> streams;
  StreamServerStats counters;
  std::jthread ticker;

  // --- subscriptions (mu held)

  Status subscribe(uint64_t id, Client& c, const std::vector<std::string>& names, int64_t now) {
    std::vector<StreamName> parsed;
    for (const auto& n : names) {
      auto name = ws::parse_stream_name(n, symbols);
      if (!name) return name.status();
      parsed.push_back(std::move(name).value());
    }
    size_t added = 0;
    for (const auto& p : parsed) {
      if (std::find(c.streams.begin(), c.streams.end(), p.text) == c.streams.end()) ++added;
    }
    if (c.streams.size() + added > static_cast<size_t>(options.max_streams)) {
      return Status::invalid_argument(
          fmt::format("too many streams: at most {} per connection", options.max_streams));
    }
    for (auto& p : parsed) {
      if (std::find(c.streams.begin(), c.streams.end(), p.text) != c.streams.end()) continue;
      c.streams.push_back(p.text);
      auto it = streams.find(p.text);
      if (it == streams.end()) {
        std::string key = p.text;
        it = streams.emplace(std::move(key), new_stream(std::move(p), now)).first;
      }
      it->second.subscribers.push_back(id);
    }
    return Status::ok();
  }

  void unsubscribe(uint64_t id, Client& c, const std::string& name) {
    auto pos = std::find(c.streams.begin(), c.streams.end(), name);
    if (pos == c.streams.end()) return;
    c.streams.erase(pos);
    auto it = streams.find(name);
    if (it == streams.end()) return;
    auto& subs = it->second.subscribers;
    subs.erase(std::remove(subs.begin(), subs.end(), id), subs.end());
    if (subs.empty()) streams.erase(it);  // a later subscriber starts at its present
  }

  Stream new_stream(StreamName name, int64_t now) {
    Stream s;
    s.market = market.find(name.symbol);
    switch (name.kind) {
      case StreamKind::kTrade:
        s.next_id = s.market->trade_count(now);
        break;
      case StreamKind::kAggTrade:
        s.next_id = s.market->agg_trade_count(now);
        break;
      case StreamKind::kKline:
        s.next_close_open = interval_floor(name.interval, now);
        break;
      case StreamKind::kDepth:
        s.depth = std::make_unique<ws::DepthStream>(*s.market, name.depth_speed_ms, now);
        break;
    }
    s.name = std::move(name);
    return s;
  }

  // --- connections (callbacks run on the connection's strand)

  void open(const net::HttpRequest& req, const std::shared_ptr<net::WebSocketConnection>& conn) {
    std::vector<std::string> names;
    bool combined = true;
    if (auto stream = req.path_param("stream")) {
      combined = false;
      names.emplace_back(*stream);
    } else if (req.path == "/ws") {
      combined = false;
    } else if (auto list = req.query_param("streams")) {
      size_t start = 0;
      while (start <= list->size()) {
        size_t slash = list->find('/', start);
        if (slash == std::string_view::npos) slash = list->size();
        if (slash > start) names.emplace_back(list->substr(start, slash - start));
        start = slash + 1;
      }
    }
    const auto now_real = std::chrono::steady_clock::now();
    uint64_t id = 0;
    {
      std::lock_guard lock(mu);
      id = ++next_client;
      Client c;
      c.conn = conn;
      c.combined = combined;
      c.opened = c.last_pong = c.last_ping = now_real;
      c.next_burst = now_real + std::chrono::milliseconds(faults.burst_ms);
      Status s = subscribe(id, c, names, clock());
      if (!s) {
        conn->send_text(error_reply(2, "Invalid request: " + s.message(), nullptr));
        conn->close();
        return;
      }
      clients.emplace(id, std::move(c));
      ++counters.accepted;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    conn->on_message([weak, id](net::WebSocketConnection& c, std::string_view text, bool) {
      if (auto self = weak.lock()) self->on_message(id, c, text);
    });
    conn->on_pong([weak, id](net::WebSocketConnection&, std::string_view) {
      if (auto self = weak.lock()) self->on_pong(id);
    });
    conn->on_close([weak, id](net::WebSocketConnection&) {
      if (auto self = weak.lock()) self->on_close(id);
    });
  }

  // Counts an incoming message; false (and the connection dropped) when it breaks the rate limit.
  bool admit(uint64_t /*id*/, Client& c) {
    const auto now = std::chrono::steady_clock::now();
    while (!c.incoming.empty() && now - c.incoming.front() >= std::chrono::seconds(1)) c.incoming.pop_front();
    c.incoming.push_back(now);
    if (static_cast<int>(c.incoming.size()) <= options.max_incoming_per_second) return true;
    spdlog::info("exchange-sim ws: {} sent more than {} messages in a second, disconnecting",
                 c.conn->remote_address(), options.max_incoming_per_second);
    c.conn->drop();
    ++counters.dropped;
    return false;
  }

  void on_pong(uint64_t id) {
    std::lock_guard lock(mu);
    auto it = clients.find(id);
    if (it == clients.end()) return;
    it->second.last_pong = std::chrono::steady_clock::now();
    admit(id, it->second);
  }

  void on_close(uint64_t id) {
    std::lock_guard lock(mu);
    auto it = clients.find(id);
    if (it != clients.end()) remove_client(it);
  }

  std::map<uint64_t, Client>::iterator remove_client(std::map<uint64_t, Client>::iterator it) {
    for (const auto& name : std::vector<std::string>(it->second.streams))
      unsubscribe(it->first, it->second, name);
    return clients.erase(it);
  }

  void on_message(uint64_t id, net::WebSocketConnection& conn, std::string_view text) {
    std::lock_guard lock(mu);
    auto it = clients.find(id);
    if (it == clients.end()) return;
    Client& c = it->second;
    if (!admit(id, c)) return;
    Json request = Json::parse(text, nullptr, false);
    if (request.is_discarded()) {
      conn.send_text(error_reply(3, "Invalid JSON: the message does not parse", nullptr));
      return;
    }
    if (!request.is_object()) {
      conn.send_text(error_reply(2, "Invalid request: expected a JSON object", nullptr));
      return;
    }
    Json req_id = request.contains("id") ? request["id"] : Json(nullptr);
    if (!valid_request_id(req_id)) {
      conn.send_text(error_reply(
          2,
          "Invalid request: request ID must be a 64-bit integer, an alphanumeric string of at most 36 "
          "characters, or null",
          nullptr));
      return;
    }
    auto method = request.find("method");
    if (method == request.end() || !method->is_string()) {
      conn.send_text(error_reply(2, "Invalid request: missing field `method`", req_id));
      return;
    }
    const std::string m = method->get<std::string>();
    auto params = request.find("params");
    if (m == "SUBSCRIBE" || m == "UNSUBSCRIBE") {
      std::vector<std::string> names;
      if (params == request.end() || !params->is_array() ||
          !std::all_of(params->begin(), params->end(), [](const Json& p) { return p.is_string(); })) {
        conn.send_text(error_reply(2, "Invalid request: `params` must be an array of stream names", req_id));
        return;
      }
      for (const auto& p : *params) names.push_back(p.get<std::string>());
      if (m == "SUBSCRIBE") {
        if (Status s = subscribe(id, c, names, clock()); !s) {
          conn.send_text(error_reply(2, "Invalid request: " + s.message(), req_id));
          return;
        }
      } else {
        for (const auto& n : names) unsubscribe(id, c, n);
      }
      conn.send_text(result_reply(nullptr, req_id));
    } else if (m == "LIST_SUBSCRIPTIONS") {
      conn.send_text(result_reply(c.streams, req_id));
    } else if (m == "SET_PROPERTY" || m == "GET_PROPERTY") {
      if (params == request.end() || !params->is_array() || params->empty() || !(*params)[0].is_string()) {
        conn.send_text(error_reply(2, "Invalid request: property name must be a string", req_id));
      } else if ((*params)[0] != "combined") {
        conn.send_text(error_reply(0, "Unknown property", req_id));
      } else if (m == "GET_PROPERTY") {
        conn.send_text(result_reply(c.combined, req_id));
      } else if (params->size() < 2 || !(*params)[1].is_boolean()) {
        conn.send_text(error_reply(1, "Invalid value type: expected Boolean", req_id));
      } else {
        c.combined = (*params)[1].get<bool>();
        conn.send_text(result_reply(nullptr, req_id));
      }
    } else {
      conn.send_text(error_reply(
          2,
          fmt::format("Invalid request: unknown variant `{}`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, "
                      "`LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                      m),
          req_id));
    }
  }

  // --- pushing (the ticker thread)

  void produce(Stream& s, int64_t now) {
    s.payloads.clear();
    const SymbolMarket& m = *s.market;
    switch (s.name.kind) {
      case StreamKind::kTrade: {
        for (const Trade& t : m.trades_from_id(s.next_id, kMaxEventsPerTick, now)) {
          ws::append_trade_event(s.payloads.emplace_back(), m, t, now);
          s.next_id = t.id + 1;
        }
        break;
      }
      case StreamKind::kAggTrade: {
        for (const AggTrade& a : m.agg_trades_from_id(s.next_id, kMaxEventsPerTick, now)) {
          ws::append_agg_trade_event(s.payloads.emplace_back(), m, a, now);
          s.next_id = a.id + 1;
        }
        break;
      }
      case StreamKind::kKline: {
        const Interval iv = s.name.interval;
        const int64_t current = interval_floor(iv, now);
        for (int n = 0; s.next_close_open < current && n < kMaxCandlesPerTick; ++n) {
          push_kline(s, s.next_close_open, now, true);
          s.next_close_open = interval_next(iv, s.next_close_open);
        }
        if (s.last_partial == std::numeric_limits<int64_t>::min() || s.last_partial > now ||
            now - s.last_partial >= options.kline_update_ms) {
          push_kline(s, current, now, false);
          s.last_partial = now;
        }
        break;
      }
      case StreamKind::kDepth: {
        // The sequence-gap fault loses whole events of the stream (every subscriber sees the hole).
        const std::function<bool()> gap = [this] { return chance_per_event(faults.depth_gap_rate); };
        s.depth->produce(now, s.payloads, gap);
        break;
      }
    }
  }

  void push_kline(Stream& s, int64_t open_time, int64_t now, bool closed) {
    const SymbolMarket& m = *s.market;
    auto k = m.kline_at(s.name.interval, open_time, now);
    if (!k) return;  // before the listing
    int64_t first = m.trades_before(open_time, now);
    int64_t last = m.trades_before(interval_next(s.name.interval, open_time), now) - 1;
    if (last < first) first = last = -1;
    ws::append_kline_event(s.payloads.emplace_back(), m, s.name.interval, *k, now, first, last, closed);
  }

  bool chance_per_event(double rate) {
    return rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < rate;
  }

  bool chance(double rate_per_second, std::chrono::milliseconds tick) {
    if (rate_per_second <= 0) return false;
    const double p = std::min(1.0, rate_per_second * static_cast<double>(tick.count()) / 1000.0);
    return std::uniform_real_distribution<double>(0, 1)(rng) < p;
  }

  void send(Client& c, std::string message, const SteadyTime& now_real) {
    if (faults.malformed_rate > 0 &&
        std::uniform_real_distribution<double>(0, 1)(rng) < faults.malformed_rate) {
      message.resize(message.size() / 2);  // truncated JSON
      ++counters.malformed;
    }
    ++counters.messages;
    if (faults.burst_ms > 0 && now_real < c.next_burst) {
      c.held.push_back(std::move(message));
      return;
    }
    c.outgoing.push_back(std::move(message));
  }

  void tick(std::chrono::milliseconds period) {
    const auto now_real = std::chrono::steady_clock::now();
    std::lock_guard lock(mu);
    const int64_t now = clock();
    for (auto& [name, s] : streams) produce(s, now);

    for (auto it = clients.begin(); it != clients.end();) {
      Client& c = it->second;
      // Housekeeping: lifetime, pongs, pings, injected drops and stalls.
      if (now_real - c.opened >= options.lifetime) {
        c.conn->close();  // Binance closes at the 24 h mark
        it = remove_client(it);
        continue;
      }
      if (now_real - c.last_pong >= options.pong_timeout || chance(faults.drop_rate, period)) {
        c.conn->drop();
        ++counters.dropped;
        it = remove_client(it);
        continue;
      }
      if (now_real - c.last_ping >= options.ping_interval) {
        c.conn->ping();
        c.last_ping = now_real;
      }
      if (now_real >= c.stalled_until && chance(faults.stall_rate, period)) {
        c.stalled_until = now_real + std::chrono::milliseconds(faults.stall_ms);
      }
      const bool stalled = now_real < c.stalled_until;
      if (!stalled) {
        for (const auto& name : c.streams) {
          auto s = streams.find(name);
          if (s == streams.end()) continue;
          for (const auto& payload : s->second.payloads) {
            if (c.combined) {
              std::string wrapped;
              wrapped.reserve(payload.size() + name.size() + 22);
              ws::append_combined(wrapped, name, payload);
              send(c, std::move(wrapped), now_real);
            } else {
              send(c, payload, now_real);
            }
          }
        }
      }
      if (faults.burst_ms > 0 && now_real >= c.next_burst) {
        for (auto& m : c.held) c.outgoing.push_back(std::move(m));
        c.held.clear();
        c.next_burst = now_real + std::chrono::milliseconds(faults.burst_ms);
      }
      if (!c.outgoing.empty()) {
        c.conn->send_texts(std::move(c.outgoing));
        c.outgoing = {};
      }
      ++it;
    }
  }

  void run(std::stop_token stop) {
    const auto period = std::max(options.tick, std::chrono::milliseconds(1));
    auto next = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      tick(period);
      next += period;
      const auto now = std::chrono::steady_clock::now();
      // Behind: do not try to catch up tick by tick, and pause a little anyway so that connections waiting
      // for the lock (handshakes, SUBSCRIBE frames) get it between two ticks.
      if (next < now + std::chrono::milliseconds(2)) next = now + std::chrono::milliseconds(2);
      std::this_thread::sleep_until(next);
    }
  }
};

StreamServer::StreamServer(const SimMarket& market, const SymbolTable& symbols,
                           std::function<int64_t()> clock, StreamServerOptions options)
    : impl_(std::make_shared<Impl>(market, symbols, std::move(clock), options)) {}

StreamServer::~StreamServer() {
  stop();
}

void StreamServer::attach(net::HttpServer& server) {
  std::weak_ptr<Impl> weak = impl_;
  auto open = [weak](const net::HttpRequest& req, std::shared_ptr<net::WebSocketConnection> conn) {
    if (auto self = weak.lock()) self->open(req, conn);
  };
  server.websocket("/ws", open);
  server.websocket("/ws/{stream}", open);
  server.websocket("/stream", open);
}

void StreamServer::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->ticker.joinable()) return;
  impl_->ticker = std::jthread([impl = impl_.get()](std::stop_token stop) { impl->run(stop); });
}

void StreamServer::stop() {
  std::jthread ticker;
  {
    std::lock_guard lock(impl_->mu);
    ticker = std::move(impl_->ticker);
  }
  if (ticker.joinable()) {
    ticker.request_stop();
    ticker.join();
  }
  std::lock_guard lock(impl_->mu);
  for (auto& [id, c] : impl_->clients) c.conn->close();
  impl_->clients.clear();
  impl_->streams.clear();
}

void StreamServer::set_faults(const StreamFaultOptions& faults) {
  std::lock_guard lock(impl_->mu);
  impl_->faults = faults;
  impl_->rng.seed(faults.seed);
}

void StreamServer::drop_all() {
  std::lock_guard lock(impl_->mu);
  for (auto& [id, c] : impl_->clients) {
    c.conn->drop();
    ++impl_->counters.dropped;
  }
  impl_->clients.clear();
  impl_->streams.clear();
}

StreamServerStats StreamServer::stats() const {
  std::lock_guard lock(impl_->mu);
  StreamServerStats s = impl_->counters;
  s.connections = impl_->clients.size();
  return s;
}

}  // namespace sf::exchange::sim
