// A simulator on 127.0.0.1:0 with a clock the test moves, and a raw HTTP client to it.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "exchange/sim/exchange_sim.h"
#include "net/http_client.h"

namespace sf::exchange::sim::testing {

constexpr int64_t kAug1 = 1722470400000;  // 2024-08-01T00:00:00Z
constexpr int64_t kNow = 1722556800000;   // 2024-08-02T00:00:00Z

class SimFixture {
 public:
  explicit SimFixture(ExchangeSimOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.clock = [this] { return clock_.load(); };
    sim_ = std::make_unique<ExchangeSim>(std::move(options));
    address_ = value_or_throw(sim_->start());
    http_ = value_or_throw(net::HttpClient::create("http://" + address_));
  }

  ExchangeSim& sim() { return *sim_; }
  net::HttpClient& http() { return *http_; }
  void set_clock(int64_t ms) { clock_ = ms; }
  int64_t clock() const { return clock_; }

  // GET `target`; throws on transport errors (tests of those use http() directly).
  net::HttpResponse get(const std::string& target) { return value_or_throw(http_->get(target)); }
  static nlohmann::json json(const net::HttpResponse& r) { return nlohmann::json::parse(r.body); }

 private:
  std::atomic<int64_t> clock_{kNow};
  std::unique_ptr<ExchangeSim> sim_;
  std::string address_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace sf::exchange::sim::testing
