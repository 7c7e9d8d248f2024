// spdlog configuration, including a JSON-lines formatter that escapes messages properly.
#include "core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "core/status.h"

namespace sf {
namespace {

void append_json_escaped(spdlog::memory_buf_t& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"':
        out.append(std::string_view("\\\""));
        break;
      case '\\':
        out.append(std::string_view("\\\\"));
        break;
      case '\n':
        out.append(std::string_view("\\n"));
        break;
      case '\r':
        out.append(std::string_view("\\r"));
        break;
      case '\t':
        out.append(std::string_view("\\t"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
}

// One JSON object per line: {"ts":..., "level":..., "logger":..., "thread":..., "msg":...}
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    fmt::format_to(std::back_inserter(dest), R"({{"ts_ms":{},"level":"{}","logger":")", ms,
                   spdlog::level::to_string_view(msg.level));
    append_json_escaped(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    fmt::format_to(std::back_inserter(dest), R"(","thread":{},"msg":")", msg.thread_id);
    append_json_escaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(std::string_view("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

LogFormat parse_log_format(const std::string& text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  throw Error(Status::invalid_argument("--log-format must be 'text' or 'json', not '" + text + "'"));
}

void init_logging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    throw Error(Status::invalid_argument("unknown log level '" + options.level + "'"));
  }
  auto logger =
      std::make_shared<spdlog::logger>("streamforge", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (options.format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace sf
