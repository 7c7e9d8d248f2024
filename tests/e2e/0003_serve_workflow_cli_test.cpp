// The real binary end to end: `streamforge serve` on 127.0.0.1:0 (its synthetic loader stands in for the
// exchange), driven only through the CLI verbs (`workflow start|list|show|events|watch|stop`, `query`); a
// SIGTERM while a workflow is in flight, a restart on the same data directory, and the workflow resumes and
// completes with every candle stored once; `workflow list` still shows everything. The backfill tests run
// twice: on the embedded bus, and on the Kafka backend (`--bus kafka`) against a `streamforge broker` process.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/process.h"

namespace sf::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A long-running streamforge subcommand (serve, exchange-sim) with stdout and stderr in separate files (the
// first stdout line is the address); SIGKILLed and reaped on destruction if still running.
class Daemon {
 public:
  Daemon(std::vector<std::string> args, const fs::path& log_prefix)
      : out_(log_prefix.string() + ".out"), err_(log_prefix.string() + ".err") {
    args.insert(args.begin(), streamforge_bin());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn failed for " + args[0]);
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Waits for the first stdout line; returns "http://HOST:PORT", or "" (with a test failure) if it never
  // came.
  std::string url(std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = read_file(out_);
      if (auto nl = out.find('\n'); nl != std::string::npos) {
        const std::string first = out.substr(0, nl);
        std::smatch m;
        EXPECT_TRUE(std::regex_match(first, m, std::regex(R"(listening on (127\.0\.0\.1:[0-9]+))"))) << first;
        return m.empty() ? "" : "http://" + m[1].str();
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ADD_FAILURE() << "exited early: " << read_file(err_);
        return "";
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "printed no address: " << read_file(err_);
    return "";
  }

  // Sends `signal` and waits for the exit; returns the exit code, 128+signal when killed, -1 on timeout.
  int stop(int signal = SIGTERM, std::chrono::seconds timeout = 60s) {
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  std::string log() const { return read_file(err_); }

  // The stdout line after the address (serve's `kafka listening on HOST:PORT`), or "" after `timeout`.
  std::string second_line(std::chrono::seconds timeout = 30s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = read_file(out_);
      const auto first = out.find('\n');
      const auto second = first == std::string::npos ? first : out.find('\n', first + 1);
      if (second != std::string::npos) return out.substr(first + 1, second - first - 1);
      std::this_thread::sleep_for(20ms);
    }
    return "";
  }

 private:
  pid_t pid_ = -1;
  std::string out_;
  std::string err_;
};

// `streamforge serve` on a free port with the synthetic loader (no exchange needed) unless told otherwise.
std::unique_ptr<Daemon> start_serve(const fs::path& data_dir, const fs::path& log_prefix,
                                    std::vector<std::string> extra = {"--synthetic-loader"}) {
  std::vector<std::string> args = {
      "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir.string(), "--ws-heartbeat", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<Daemon>(std::move(args), log_prefix);
}

// A temporary directory, removed at the end whatever happens.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("sf-e2e-serve-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The bus a serve under test uses: its own embedded log, or a `streamforge broker` process it reaches with
// the Kafka backend (which outlives serve restarts, as a Kafka cluster would).
class BusUnderTest {
 public:
  BusUnderTest(bool kafka, const fs::path& dir) {
    if (!kafka) return;
    broker_ = std::make_unique<Daemon>(
        std::vector<std::string>{"broker", "--listen", "127.0.0.1:0", "--data-dir", (dir / "broker").string()},
        dir / "broker");
    const std::string url = broker_->url();
    if (url.starts_with("http://")) bootstrap_ = url.substr(7);
  }
  bool ready() const { return !broker_ || !bootstrap_.empty(); }
  // serve's flags for this bus, after `extra`.
  std::vector<std::string> args(std::vector<std::string> extra = {}) const {
    if (broker_) extra.insert(extra.end(), {"--bus", "kafka", "--kafka-bootstrap", bootstrap_});
    return extra;
  }
  ~BusUnderTest() {
    if (broker_) {
      EXPECT_EQ(broker_->stop(SIGTERM), 0) << broker_->log();
    }
  }

 private:
  std::unique_ptr<Daemon> broker_;
  std::string bootstrap_;
};

class ServeBackfill : public ::testing::TestWithParam<bool> {};  // true: the Kafka backend

size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_P(ServeBackfill, WorkflowsThroughTheCliSurviveARestart) {
  TempDir tmp;
  BusUnderTest bus(GetParam(), tmp.path);
  ASSERT_TRUE(bus.ready());
  const fs::path data = tmp.path / "data";
  int step = 0;
  auto cli = [&](std::vector<std::string> args, std::chrono::seconds timeout = 120s) {
    return run(std::move(args), (tmp.path / ("cli-" + std::to_string(++step) + ".log")).string(), timeout);
  };

  auto server =
      start_serve(data, tmp.path / "serve1", bus.args({"--synthetic-loader", "--synthetic-delay-ms", "20"}));
  const std::string url = server->url();
  ASSERT_FALSE(url.empty());

  // A day of 5m candles: 288, start to finish with --wait.
  auto [start_rc, started] = cli({"workflow", "start", "--server", url, "--symbol", "BTCUSDT", "--type",
                                  "api_candles_5m", "--time-range", "2024-08-01:2024-08-02", "--wait"});
  ASSERT_EQ(start_rc, 0) << started;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started, m,
                                std::regex(R"(started (wf-btcusdt-api_candles_5m-20240801-[0-9a-f]{6}))")))
      << started;
  const std::string day = m[1];
  EXPECT_NE(started.find("workflow " + day + " completed: 288 records"), std::string::npos) << started;

  auto [show_rc, shown] = cli({"workflow", "show", day, "--server", url});
  EXPECT_EQ(show_rc, 0) << shown;
  EXPECT_NE(shown.find("completed"), std::string::npos) << shown;
  EXPECT_NE(shown.find("288 of 288 (100.0%)"), std::string::npos) << shown;
  EXPECT_NE(shown.find("loader-producer"), std::string::npos) << shown;
  EXPECT_NE(shown.find("arango-connector"), std::string::npos) << shown;

  auto [events_rc, events] = cli({"workflow", "events", day, "--server", url});
  EXPECT_EQ(events_rc, 0) << events;
  EXPECT_NE(events.find("loader-producer__" + day.substr(day.size() - 6)), std::string::npos) << events;
  EXPECT_NE(events.find("Saved 288 records"), std::string::npos) << events;

  auto [watch_rc, watched] = cli({"workflow", "watch", day, "--server", url});
  EXPECT_EQ(watch_rc, 0) << watched;

  const std::string collection = "btcusdt_api_candles_5m_2024_08_01";
  auto [count_rc, count] = cli({"query", collection, "--server", url, "--count"});
  EXPECT_EQ(count_rc, 0) << count;
  EXPECT_EQ(count, "288\n");
  auto [hour_rc, hour] = cli({"query", collection, "--server", url, "--from", "2024-08-01T01:00:00Z", "--to",
                              "2024-08-01T02:00:00Z"});
  EXPECT_EQ(hour_rc, 0) << hour;
  EXPECT_EQ(count_lines(hour), 12u) << hour;
  EXPECT_EQ(hour.rfind(R"({"_key":"1722474000000","open_time":1722474000000,)", 0), 0u) << hour;
  auto [csv_rc, csv] = cli({"query", collection, "--server", url, "--format", "csv", "--limit", "2"});
  EXPECT_EQ(csv_rc, 0) << csv;
  EXPECT_EQ(count_lines(csv), 3u) << csv;
  EXPECT_EQ(csv.rfind("_key,open_time,open,high,low,close,volume,close_time,", 0), 0u) << csv;

  // Errors come back as `error: <message>` and a non-zero exit.
  auto [again_rc, again] = cli({"workflow", "stop", day, "--server", url});
  EXPECT_EQ(again_rc, 1) << again;
  EXPECT_NE(again.find("error: workflow '" + day + "' has already finished (completed)"), std::string::npos)
      << again;
  auto [bad_rc, bad] = cli({"workflow", "start", "--server", url, "--symbol", "BTCUSDT", "--type",
                            "api_candles_7m", "--time-range", "2024-08-01:2024-08-02"});
  EXPECT_NE(bad_rc, 0) << bad;
  EXPECT_EQ(bad.rfind("error: field 'type'", 0), 0u) << bad;
  auto [unknown_rc, unknown] =
      cli({"workflow", "show", "wf-btcusdt-api_candles_5m-20240801-000000", "--server", url});
  EXPECT_EQ(unknown_rc, 1) << unknown;
  EXPECT_NE(unknown.find("error: workflow 'wf-btcusdt-api_candles_5m-20240801-000000' does not exist"),
            std::string::npos)
      << unknown;

  // `streamforge job` cannot share the data dir with a running serve, and says why.
  auto [job_rc, job] = cli({"job", "loader-producer", "--queue-id", day, "--data-dir", data.string()});
  EXPECT_EQ(job_rc, 1) << job;
  EXPECT_NE(job.find("in use by another process"), std::string::npos) << job;

  // A month of 1m candles stopped on request: it ends `stopped`, and watch says so with exit 1.
  auto [june_rc, june_id] = cli({"workflow", "start", "--server", url, "--symbol", "ETHUSDT", "--type",
                                 "api_candles_1m", "--time-range", "2024-06-01:2024-07-01", "--quiet"});
  ASSERT_EQ(june_rc, 0) << june_id;
  const std::string june = trim(june_id);
  auto [stop_rc, stopped] = cli({"workflow", "stop", june, "--server", url});
  EXPECT_EQ(stop_rc, 0) << stopped;
  EXPECT_NE(stopped.find("stop requested for " + june), std::string::npos) << stopped;
  auto [stopped_watch_rc, stopped_watch] =
      cli({"workflow", "watch", june, "--server", url, "--timeout", "60"});
  EXPECT_EQ(stopped_watch_rc, 1) << stopped_watch;
  EXPECT_NE(stopped_watch.find("workflow " + june + " stopped"), std::string::npos) << stopped_watch;

  // Another month, in flight when the server is told to stop.
  auto [july_rc, july_id] = cli({"workflow", "start", "--server", url, "--symbol", "BTCUSDT", "--type",
                                 "api_candles_1m", "--time-range", "2024-07-01:2024-08-01", "--quiet"});
  ASSERT_EQ(july_rc, 0) << july_id;
  const std::string july = trim(july_id);
  std::this_thread::sleep_for(300ms);
  auto [inflight_rc, inflight] = cli({"workflow", "show", july, "--server", url, "--json"});
  EXPECT_EQ(inflight_rc, 0) << inflight;
  EXPECT_NE(inflight.find("\"finished_at\": null"), std::string::npos) << inflight;  // still running
  EXPECT_EQ(server->stop(SIGTERM), 0) << server->log();
  EXPECT_NE(server->log().find("serve: stopped"), std::string::npos) << server->log();
  server.reset();

  // Restart on the same data dir: everything is still listed, and the July workflow resumes and completes
  // with each of its 44640 candles stored once.
  server = start_serve(data, tmp.path / "serve2", bus.args({"--synthetic-loader"}));
  const std::string url2 = server->url();
  ASSERT_FALSE(url2.empty());
  auto [list_rc, listed] = cli({"workflow", "list", "--server", url2});
  EXPECT_EQ(list_rc, 0) << listed;
  for (const auto& id : {day, june, july}) EXPECT_NE(listed.find(id), std::string::npos) << listed;
  EXPECT_EQ(listed.rfind("QUEUE_ID", 0), 0u) << listed;
  EXPECT_EQ(count_lines(listed), 4u) << listed;

  auto [resumed_rc, resumed] = cli({"workflow", "watch", july, "--server", url2, "--timeout", "180"}, 200s);
  EXPECT_EQ(resumed_rc, 0) << resumed << server->log();
  EXPECT_NE(resumed.find("workflow " + july + " completed: 44640 records"), std::string::npos) << resumed;
  auto [july_count_rc, july_count] =
      cli({"query", "btcusdt_api_candles_1m_2024_07_01", "--server", url2, "--count"});
  EXPECT_EQ(july_count_rc, 0) << july_count;
  EXPECT_EQ(july_count, "44640\n");

  EXPECT_EQ(server->stop(SIGINT), 0) << server->log();
}

// The real REST loader against the local exchange simulator: a day of 5m candles, each stored once.
TEST_P(ServeBackfill, RestWorkflowAgainstTheExchangeSimulator) {
  TempDir tmp;
  BusUnderTest bus(GetParam(), tmp.path);
  ASSERT_TRUE(bus.ready());
  Daemon sim({"exchange-sim", "--listen", "127.0.0.1:0"}, tmp.path / "sim");
  const std::string sim_url = sim.url();
  ASSERT_FALSE(sim_url.empty());
  auto server = start_serve(tmp.path / "data", tmp.path / "serve", bus.args({"--exchange-url", sim_url}));
  const std::string url = server->url();
  ASSERT_FALSE(url.empty());
  auto [rc, out] =
      run({"workflow", "start", "--server", url, "--symbol", "BTCUSDT", "--type", "api_candles_5m",
           "--time-range", "2024-08-01:2024-08-02", "--wait", "--timeout", "120"},
          (tmp.path / "start.log").string(), 150s);
  if (rc != 0 && out.find("no job registered") != std::string::npos) {
    GTEST_SKIP() << "the REST loader is not registered in this build: " << out;
  }
  ASSERT_EQ(rc, 0) << out << server->log();
  EXPECT_NE(out.find("completed: 288 records"), std::string::npos) << out;
  auto [count_rc, count] = run({"query", "btcusdt_api_candles_5m_2024_08_01", "--server", url, "--count"},
                               (tmp.path / "count.log").string());
  EXPECT_EQ(count_rc, 0) << count;
  EXPECT_EQ(count, "288\n");
  auto [first_rc, first] =
      run({"query", "btcusdt_api_candles_5m_2024_08_01", "--server", url, "--limit", "1"},
          (tmp.path / "first.log").string());
  EXPECT_EQ(first_rc, 0) << first;
  EXPECT_EQ(first.rfind(R"({"_key":"1722470400000","open_time":1722470400000,)", 0), 0u) << first;
  EXPECT_EQ(server->stop(SIGTERM), 0) << server->log();
  EXPECT_EQ(sim.stop(SIGTERM), 0);
}

INSTANTIATE_TEST_SUITE_P(Bus, ServeBackfill, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Kafka" : "Embedded"; });

// `serve --kafka-listen`: the workflows' topics of the embedded bus, read by kcat (librdkafka) while serve
// runs: every stored candle is in the data topic, once, in order.
TEST(ServeKafkaListen, KcatReadsTheDataTopicOfABackfill) {
  if (std::system("command -v kcat > /dev/null 2>&1") != 0) GTEST_SKIP() << "kcat is not installed";
  TempDir tmp;
  auto server = start_serve(tmp.path / "data", tmp.path / "serve",
                            {"--synthetic-loader", "--kafka-listen", "127.0.0.1:0"});
  const std::string url = server->url();
  ASSERT_FALSE(url.empty());
  std::smatch m;
  const std::string kafka_line = server->second_line();
  ASSERT_TRUE(std::regex_match(kafka_line, m, std::regex(R"(kafka listening on (127\.0\.0\.1:[0-9]+))")))
      << kafka_line << server->log();
  const std::string bootstrap = m[1];

  auto [start_rc, started] = run({"workflow", "start", "--server", url, "--symbol", "BTCUSDT", "--type",
                                  "api_candles_5m", "--time-range", "2024-08-01:2024-08-02", "--wait"},
                                 (tmp.path / "start.log").string());
  ASSERT_EQ(start_rc, 0) << started;
  ASSERT_TRUE(std::regex_search(started, m, std::regex(R"(started (wf-btcusdt-api_candles_5m-[0-9a-f-]+))")))
      << started;
  const std::string topic = m[1].str() + "-data";

  // The topic is listed, and a consumer reads the 288 candles the store holds, oldest first.
  const fs::path listed = tmp.path / "kcat-l.txt";
  ASSERT_EQ(std::system(("kcat -L -b " + bootstrap + " > " + listed.string() + " 2>&1").c_str()), 0);
  EXPECT_NE(read_file(listed).find("topic \"" + topic + "\""), std::string::npos) << read_file(listed);
  const fs::path consumed = tmp.path / "kcat-c.txt";
  const std::string consume = "timeout 60 kcat -C -b " + bootstrap + " -t " + topic +
                              " -o beginning -e -q -f '%s\\n' > " + consumed.string() + " 2> " +
                              (tmp.path / "kcat-c.err").string();
  ASSERT_EQ(std::system(consume.c_str()), 0) << read_file(tmp.path / "kcat-c.err");
  const std::string values = read_file(consumed);
  EXPECT_EQ(count_lines(values), 288u) << values.substr(0, 2000);
  EXPECT_NE(values.find("1722470400000"), std::string::npos) << values.substr(0, 2000);
  EXPECT_LT(values.find("1722470400000"), values.find("1722556500000")) << values.substr(0, 2000);
  auto [count_rc, count] = run({"query", "btcusdt_api_candles_5m_2024_08_01", "--server", url, "--count"},
                               (tmp.path / "count.log").string());
  EXPECT_EQ(count_rc, 0) << count;
  EXPECT_EQ(count, "288\n");
  EXPECT_EQ(server->stop(SIGTERM), 0) << server->log();

  // It serves the embedded bus only.
  auto [refused_rc, refused] = run({"serve", "--bus", "kafka", "--kafka-bootstrap", "127.0.0.1:1",
                                    "--kafka-listen", "127.0.0.1:0", "--data-dir", (tmp.path / "d").string()},
                                   (tmp.path / "refused.log").string(), 30s);
  EXPECT_EQ(refused_rc, 2) << refused;
  EXPECT_NE(refused.find("--kafka-listen serves the embedded bus"), std::string::npos) << refused;
}

TEST(ServeWorkflowCli, LaterBackendsAreRefusedClearly) {
  TempDir tmp;
  auto [kafka_rc, kafka] = run({"serve", "--bus", "kafka", "--data-dir", (tmp.path / "d").string()},
                               (tmp.path / "kafka.log").string(), 30s);
  EXPECT_EQ(kafka_rc, 2) << kafka;
  EXPECT_NE(kafka.find("--bus kafka needs --kafka-bootstrap"), std::string::npos) << kafka;
  auto [arango_rc, arango] = run({"serve", "--store", "arangodb", "--data-dir", (tmp.path / "d").string()},
                                 (tmp.path / "arango.log").string(), 30s);
  EXPECT_EQ(arango_rc, 2) << arango;
  EXPECT_NE(arango.find("--store arangodb is not available yet"), std::string::npos) << arango;
  // The client verbs fail clearly when nothing listens.
  auto [down_rc, down] =
      run({"workflow", "list", "--server", "http://127.0.0.1:1"}, (tmp.path / "down.log").string(), 30s);
  EXPECT_EQ(down_rc, 1) << down;
  EXPECT_EQ(down.rfind("error: cannot reach the server at http://127.0.0.1:1", 0), 0u) << down;
  // `job` parses its flags (env too) and names a bad target.
  auto [target_rc, target] =
      run({"job", "loader-nope", "--queue-id", "wf-x", "--data-dir", (tmp.path / "d").string()},
          (tmp.path / "target.log").string(), 30s);
  EXPECT_EQ(target_rc, 2) << target;
  EXPECT_NE(target.find("loader-nope"), std::string::npos) << target;
}

}  // namespace
}  // namespace sf::e2e
