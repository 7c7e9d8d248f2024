#include "services/loaders/page_publisher.h"

#include <algorithm>
#include <charconv>
#include <span>
#include <utility>

namespace sf::services::loaders {

std::optional<int64_t> parse_natural_key(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<ResumePoint> find_resume_point(bus::Bus& bus, std::string_view topic) {
  auto info = bus.describe_topic(topic);
  if (!info) return info.status();
  ResumePoint rp;
  rp.partitions = static_cast<int32_t>(info->partitions.size());
  std::optional<int64_t> watermark;
  bool complete = true;
  bus::FetchBatch batch;
  for (const auto& p : info->partitions) {
    rp.records += p.log_end_offset - p.log_start_offset;
    if (p.log_end_offset <= p.log_start_offset) {
      complete = false;
      continue;
    }
    bus::FetchOptions fo;
    fo.max_records = 1;
    SF_RETURN_IF_ERROR(bus.fetch(topic, p.partition, p.log_end_offset - 1, fo, batch));
    std::optional<int64_t> key;
    bool found = false;
    for (const auto& r : batch) {
      if (r.offset != p.log_end_offset - 1) continue;
      found = true;
      for (const auto& h : r.headers) {
        if (h.key == kPageLastHeader && !h.value_is_null) key = parse_natural_key(h.value);
      }
      if (!key) key = parse_natural_key(r.key);
    }
    if (!found || !key) {
      complete = false;
      continue;
    }
    watermark = watermark ? std::min(*watermark, *key) : *key;
  }
  if (complete && rp.records > 0) rp.last_key = watermark;
  return rp;
}

PagePublisher::PagePublisher(bus::Bus& bus, std::string topic, int32_t partitions)
    : bus_(bus), topic_(std::move(topic)), partitions_(std::max(1, partitions)) {
  last_in_partition_.resize(static_cast<size_t>(partitions_));
}

Result<int64_t> PagePublisher::publish() {
  if (marks_.empty()) return int64_t{0};
  records_.resize(marks_.size());
  std::fill(last_in_partition_.begin(), last_in_partition_.end(), -1);
  const std::string_view arena(arena_);
  for (size_t i = 0; i < marks_.size(); ++i) {
    const Mark& m = marks_[i];
    bus::OutgoingRecord& out = records_[i];
    out = bus::OutgoingRecord{};
    out.key = arena.substr(m.key_begin, m.doc_begin - m.key_begin);
    out.value = arena.substr(m.doc_begin, m.doc_end - m.doc_begin);
    last_in_partition_[static_cast<size_t>(bus::default_partition(*out.key, partitions_))] =
        static_cast<int64_t>(i);
  }
  // The resume marker goes on each partition's last record of the page: a consumer of any one partition,
  // and find_resume_point, can then tell which page the partition ends with.
  page_last_.assign(*records_.back().key);
  header_ = bus::Header{kPageLastHeader, page_last_, false};
  for (int64_t i : last_in_partition_) {
    if (i >= 0) records_[static_cast<size_t>(i)].headers = std::span<const bus::Header>(&header_, 1);
  }
  auto produced = bus_.produce(topic_, records_);
  if (!produced) return produced.status();
  const auto n = static_cast<int64_t>(marks_.size());
  published_ += n;
  marks_.clear();
  arena_.clear();
  return n;
}

}  // namespace sf::services::loaders
