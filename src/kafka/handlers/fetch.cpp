// Fetch v0..11 (no fetch sessions: every request is a full fetch, session id 0): stored batches are sent
// byte for byte; the request waits up to max_wait_ms for min_bytes.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "kafka/handlers.h"

namespace sf::kafka {
namespace {

struct PartitionFetch {
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t max_bytes = 0;
  int16_t error = err::kNone;
  bus::Bus::RawFetchResult result;
  std::string records;
};
struct TopicFetch {
  std::string_view name;
  std::vector<PartitionFetch> partitions;
};

// One pass over every partition without waiting; returns the bytes gathered.
int64_t read_all(RequestContext& ctx, std::vector<TopicFetch>& topics, int64_t max_bytes) {
  int64_t total = 0;
  for (auto& t : topics) {
    for (auto& p : t.partitions) {
      p.records.clear();
      p.error = err::kNone;
      p.result = {};
      if (total >= max_bytes) continue;  // the response is full: later partitions next time
      const int64_t budget = std::min<int64_t>(p.max_bytes, max_bytes - total);
      Status s = ctx.bus.fetch_raw(t.name, p.partition, p.offset, std::max<int64_t>(budget, 1),
                                   std::chrono::milliseconds(0), p.records, &p.result);
      if (!s) {
        p.error = error_code_for(s);
      } else if (p.result.out_of_range) {
        p.error = err::kOffsetOutOfRange;
      }
      total += static_cast<int64_t>(p.records.size());
    }
  }
  return total;
}

}  // namespace

HandleResult FetchHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  in.i32();  // replica_id
  const int32_t max_wait_ms = in.i32();
  const int32_t min_bytes = in.i32();
  const int32_t max_bytes = v >= 3 ? in.i32() : INT32_MAX;
  if (v >= 4) in.i8();  // isolation_level: no transactions, both levels read the same
  if (v >= 7) {
    in.i32();  // session_id
    in.i32();  // session_epoch
  }
  std::vector<TopicFetch> topics(static_cast<std::size_t>(std::max(in.array_length(6), 0)));
  for (auto& t : topics) {
    t.name = in.string();
    t.partitions.resize(static_cast<std::size_t>(std::max(in.array_length(16), 0)));
    for (auto& p : t.partitions) {
      p.partition = in.i32();
      if (v >= 9) in.i32();  // current_leader_epoch
      p.offset = in.i64();
      if (v >= 5) in.i64();  // log_start_offset (followers only)
      p.max_bytes = in.i32();
    }
  }
  if (v >= 7) {
    const int32_t forgotten = in.array_length(6);
    for (int32_t i = 0; i < forgotten && in.ok(); ++i) {
      in.string();
      const int32_t n = in.array_length(4);
      for (int32_t j = 0; j < n && in.ok(); ++j) in.i32();
    }
  }
  if (v >= 11) in.string();  // rack_id
  if (!in.ok()) return HandleResult::kMalformed;

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(std::clamp(max_wait_ms, 0, ctx.options.max_fetch_wait_ms));
  std::string scratch;
  for (;;) {
    const int64_t total = read_all(ctx, topics, max_bytes);
    const auto now = std::chrono::steady_clock::now();
    if (total >= std::max(min_bytes, 1) || now >= deadline || topics.empty() || topics[0].partitions.empty())
      break;
    bool any_error = false;
    for (const auto& t : topics)
      for (const auto& p : t.partitions) any_error = any_error || p.error != err::kNone;
    if (any_error) break;
    // Wait for an append (the bus wakes every waiter on any append), at most 10 ms at a time so that
    // records arriving on other partitions than the first are picked up quickly too.
    const auto wait = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                               std::chrono::milliseconds(10));
    scratch.clear();
    bus::Bus::RawFetchResult ignored;
    (void)ctx.bus.fetch_raw(topics[0].name, topics[0].partitions[0].partition, topics[0].partitions[0].offset,
                            1, wait, scratch, &ignored);
  }

  if (v >= 1) out.i32(0);  // throttle_time_ms
  if (v >= 7) {
    out.i16(err::kNone);
    out.i32(0);  // session_id: sessions are not implemented
  }
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) {
    out.string(t.name);
    out.array_length(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      out.i32(p.partition);
      out.i16(p.error);
      out.i64(p.error == err::kNone || p.error == err::kOffsetOutOfRange ? p.result.log_end_offset : -1);
      if (v >= 4) out.i64(p.error == err::kNone ? p.result.log_end_offset : -1);  // last_stable_offset
      if (v >= 5) out.i64(p.error == err::kNone ? p.result.log_start_offset : -1);
      if (v >= 4) out.array_length(0);  // aborted_transactions
      if (v >= 11) out.i32(-1);         // preferred_read_replica
      out.bytes(p.records);
    }
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
