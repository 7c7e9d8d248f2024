// Publishing a loader's records to a workflow's data topic in pages, and finding where a relaunched loader
// resumes. Shared by the REST loader (one page per exchange response) and the bulk loader (one page per batch
// of CSV rows): both key records by their natural key and mark each page the same way, so either can resume
// what the other left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "core/status.h"
#include "protocol/records.h"

namespace sf::services::loaders {

// On the last record of each page in each partition: the natural key of the page's last record.
inline constexpr std::string_view kPageLastHeader = "sf-page-last";

struct ResumePoint {
  int32_t partitions = 1;
  int64_t records = 0;              // records already on the topic
  std::optional<int64_t> last_key;  // everything up to this natural key is on the topic
};

// Pages are published in order, so the smallest page-last key over the partitions is a page every partition
// has completely: the exact end of the last page when no page was cut short (the usual case). Without the
// header (records written by someone else), the smallest last key. An empty partition (a first page cut
// short, or very few records) or an unreadable key: no resume point, start over; re-publishing is harmless
// because records are keyed and the store upserts.
Result<ResumePoint> find_resume_point(bus::Bus& bus, std::string_view topic);

// A natural key (open time, trade id) written as a decimal record key; nullopt for anything else.
std::optional<int64_t> parse_natural_key(std::string_view text);

// Collects records as (natural key, stored document) pairs in one reused arena and publishes them with one
// produce() call, so a page costs no allocation once the arena has grown to the page size.
class PagePublisher {
 public:
  PagePublisher(bus::Bus& bus, std::string topic, int32_t partitions);

  // Record: any type with protocol::append_key/append_document overloads (Kline, AggTrade, Trade).
  template <typename Record>
  void add(const Record& r) {
    const size_t key_begin = arena_.size();
    protocol::append_key(r, arena_);
    const size_t doc_begin = arena_.size();
    protocol::append_document(r, arena_);
    marks_.push_back({key_begin, doc_begin, arena_.size()});
  }

  size_t pending() const { return marks_.size(); }

  // Produces every pending record, in order, and starts a new page. Returns how many were published.
  Result<int64_t> publish();

  int64_t published() const { return published_; }

 private:
  struct Mark {
    size_t key_begin, doc_begin, doc_end;
  };
  bus::Bus& bus_;
  const std::string topic_;
  const int32_t partitions_;
  std::string arena_;
  std::vector<Mark> marks_;
  std::vector<bus::OutgoingRecord> records_;
  std::vector<int64_t> last_in_partition_;
  std::string page_last_;
  bus::Header header_;
  int64_t published_ = 0;
};

}  // namespace sf::services::loaders
