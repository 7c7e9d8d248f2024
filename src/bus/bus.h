// The event bus: topics of partitioned, offset-addressed record logs with consumer groups (DESIGN.md,
// "Backends"). This is the only header other components include; the embedded backend lives in embedded/.
//
// Model (Kafka's): a topic has N partitions; each partition is an append-only log whose records get
// contiguous offsets 0, 1, 2, ...; a keyed record always lands in the same partition (Kafka's murmur2
// partitioner, so a real Kafka cluster would pick the same partition); consumer groups share a topic's
// partitions among their members and remember, durably, how far they got (committed offsets).
// Delivery is at-least-once: a consumer resumes from the last commit, so records polled but not committed
// are delivered again after a restart.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time_range.h"

namespace prometheus {
class Registry;
}

namespace sf::bus {

// ---------------------------------------------------------------------------------------------------------
// Records

// A record header: a string key and a byte value that may be null (Kafka semantics).
struct Header {
  std::string_view key;
  std::string_view value;
  bool value_is_null = false;
};

// One record to produce. Zero-copy: the views only need to stay valid until produce() returns.
struct OutgoingRecord {
  // std::nullopt is Kafka's null key, which differs from "": null-key records of one produce() call all go
  // to one partition, the next call to the next partition (sticky round-robin). Any other key, "" included,
  // picks its partition with default_partition().
  std::optional<std::string_view> key;
  std::string_view value;
  bool value_is_null = false;    // a tombstone; `value` is then ignored
  TimestampMs timestamp_ms = 0;  // create time; 0 = the wall clock when produce() is called; < 0 is invalid
  std::span<const Header> headers;
};

// A record read back. Every view (topic, key, value, headers) points into the FetchBatch that returned it
// and stays valid until that batch is cleared, refilled by the next fetch()/poll(), moved from or destroyed.
struct RecordView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  TimestampMs timestamp_ms = 0;
  std::string_view key;  // empty when key_is_null
  bool key_is_null = false;
  std::string_view value;  // empty when value_is_null
  bool value_is_null = false;
  std::span<const Header> headers;
};

// The records of one fetch() or poll(), with the buffers they point into. Reuse one FetchBatch across polls:
// its buffers keep their capacity, so the read path allocates nothing per record (nor, once warm, per poll).
// Not thread-safe; owned by the caller.
class FetchBatch {
 public:
  FetchBatch();
  ~FetchBatch();
  FetchBatch(FetchBatch&&) noexcept;
  FetchBatch& operator=(FetchBatch&&) noexcept;
  FetchBatch(const FetchBatch&) = delete;
  FetchBatch& operator=(const FetchBatch&) = delete;

  std::span<const RecordView> records() const { return records_; }
  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  const RecordView& operator[](std::size_t i) const { return records_[i]; }
  std::vector<RecordView>::const_iterator begin() const { return records_.begin(); }
  std::vector<RecordView>::const_iterator end() const { return records_.end(); }

  // Drops the records (invalidating their views) and keeps the buffers for reuse.
  void clear();

 private:
  friend struct FetchBatchAccess;  // how backends fill a batch (bus/fetch_batch_access.h)
  struct Storage;
  std::vector<RecordView> records_;
  std::unique_ptr<Storage> storage_;
};

// ---------------------------------------------------------------------------------------------------------
// Topics

struct TopicConfig {
  int32_t partitions = 1;        // fixed at creation
  int64_t retention_bytes = -1;  // per partition; whole old segments are deleted beyond it; -1 = no limit
  int64_t retention_ms = -1;     // segments whose newest record is older are deleted; -1 = keep forever
  int64_t segment_bytes = -1;    // roll the active segment file at this size; -1 = the backend default
                                 // (EmbeddedBusOptions::segment_bytes, 256 MiB)
  bool operator==(const TopicConfig&) const = default;
};

struct PartitionInfo {
  int32_t partition = 0;
  int64_t log_start_offset = 0;  // the oldest offset still readable (moves forward with retention)
  int64_t log_end_offset = 0;    // the offset the next record will get
  int64_t size_bytes = 0;        // bytes on disk
};

struct TopicInfo {
  std::string name;
  TopicConfig config;  // as stored: segment_bytes resolved
  std::vector<PartitionInfo> partitions;
};

// Kafka's rules: 1..249 characters of [a-zA-Z0-9._-], and neither "." nor "..". Consumer group ids follow
// the same rules here (they name files). InvalidArgument says which rule was broken.
Status validate_topic_name(std::string_view name);
Status validate_group_id(std::string_view group_id);

// The partition Kafka's Java producer (and librdkafka's "murmur2_random") picks for a non-null key:
// toPositive(murmur2(key)) % num_partitions. Precondition: num_partitions > 0.
int32_t default_partition(std::string_view key, int32_t num_partitions);

// ---------------------------------------------------------------------------------------------------------
// Produce and fetch

struct RecordMetadata {
  int32_t partition = 0;
  int64_t offset = 0;
};

struct ProduceResult {
  std::vector<RecordMetadata> records;  // one per input record, in input order
};

struct FetchOptions {
  int32_t max_records = 10000;           // at most this many records
  int64_t max_bytes = 1 << 20;           // soft limit on bytes read; one whole batch is always returned
  std::chrono::milliseconds timeout{0};  // wait this long for data when the offset is at the log end
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;  // the next offset to read (Kafka convention: last processed + 1)
};

// ---------------------------------------------------------------------------------------------------------
// Consumer groups

enum class AutoOffsetReset {
  kEarliest,  // start at the log start offset (the oldest record kept)
  kLatest,    // start at the log end offset (only records produced from now on)
  kError,     // poll() returns FailedPrecondition instead of guessing
};

struct ConsumerOptions {
  // Where to start when the group has no committed offset for a partition, or the committed offset fell
  // below the log start offset (retention). Default earliest, unlike Kafka's "latest": StreamForge's
  // consumers must not skip data produced before they joined.
  AutoOffsetReset auto_offset_reset = AutoOffsetReset::kEarliest;
  int32_t max_poll_records = 10000;  // records per poll(), at most
  int64_t max_poll_bytes = 8 << 20;  // soft limit on bytes read per poll()
};

// A member of a consumer group. Not thread-safe: use it from one thread at a time, except wakeup().
// Partitions of the subscribed topics are shared among the group's live members by Kafka's range
// assignment; a member joining, leaving (close() or destruction) or a subscribed topic appearing or
// disappearing starts a new generation, and every member picks up its new assignment at its next call.
// A newly assigned partition starts at the group's committed offset, else per auto_offset_reset.
// A Consumer must be destroyed before the Bus that created it.
class Consumer {
 public:
  virtual ~Consumer() = default;  // leaves the group without committing

  // Returns the next records of the assigned partitions (replacing `out`'s contents), blocking up to
  // `timeout` while there are none; wakes as soon as a record is produced (no polling loop).
  // OK with an empty batch on timeout. Cancelled if wakeup() was called. Errors of one partition
  // (e.g. Corruption naming topic/partition/offset) are returned when no other partition had records;
  // the position does not move past the bad range until seek() moves it.
  virtual Status poll(std::chrono::milliseconds timeout, FetchBatch& out) = 0;

  // Durably commits the position (offset after the last polled record) of every partition this member
  // still owns. Positions of partitions lost in a rebalance are not committed (their new owner resumes
  // from the previous commit: at-least-once). Durability follows the bus's fsync policy.
  virtual Status commit() = 0;
  // Commits the given offsets; each partition must be assigned to this member (else FailedPrecondition).
  virtual Status commit(std::span<const TopicPartitionOffset> offsets) = 0;

  // Moves the position of an assigned partition; the next poll() reads from `offset`.
  virtual Status seek(std::string_view topic, int32_t partition, int64_t offset) = 0;
  // The next offset poll() will read for an assigned partition.
  virtual Result<int64_t> position(std::string_view topic, int32_t partition) = 0;

  // The partitions this member owns in the group's current generation (sorted).
  virtual std::vector<TopicPartition> assignment() = 0;
  // The generation of the assignment returned by the last assignment()/poll() (increases on rebalance).
  virtual int64_t generation() const = 0;
  virtual const std::string& member_id() const = 0;

  // Makes a blocked or the next poll() return Cancelled. Thread-safe.
  virtual void wakeup() = 0;
  // Leaves the group (its partitions go to the other members); later calls return FailedPrecondition.
  virtual Status close() = 0;
};

// ---------------------------------------------------------------------------------------------------------
// The bus

// Thread-safe: every method may be called concurrently from any thread; destroy it only once no other thread
// uses it and its Consumers are gone. Errors: NotFound for an unknown
// topic, partition or group; InvalidArgument for bad names or configs; FailedPrecondition for offsets outside
// [log start, log end] ("offset out of range"); Corruption for bytes on disk that fail a check (the message
// names topic, partition and offset); IoError when the operating system refuses a read/write/fsync.
class Bus {
 public:
  virtual ~Bus() = default;

  // AlreadyExists if the topic exists.
  virtual Status create_topic(std::string_view name, const TopicConfig& config) = 0;
  // Creates the topic unless it exists (then OK, whatever its config).
  virtual Status ensure_topic(std::string_view name, const TopicConfig& config) = 0;
  // Deletes the topic, its data and the committed offsets of its partitions.
  virtual Status delete_topic(std::string_view name) = 0;
  // Sorted topic names.
  virtual Result<std::vector<std::string>> list_topics() = 0;
  virtual Result<TopicInfo> describe_topic(std::string_view name) = 0;

  // Appends records, partitioned by key (see OutgoingRecord::key); all records of one call that go to the
  // same partition form one batch with contiguous offsets. On return the records are acknowledged: written,
  // and fsynced too under FsyncPolicy::kEveryBatch. Not atomic across partitions: on error, batches for other
  // partitions may have been appended. Empty `records` is OK and appends nothing.
  virtual Result<ProduceResult> produce(std::string_view topic, std::span<const OutgoingRecord> records) = 0;
  // Appends all records as one batch to one partition.
  virtual Result<ProduceResult> produce_to_partition(std::string_view topic, int32_t partition,
                                                     std::span<const OutgoingRecord> records) = 0;

  // Reads records of one partition starting at `offset` (replacing `out`'s contents). At the log end it waits
  // up to options.timeout for records, then returns OK with an empty batch.
  virtual Status fetch(std::string_view topic, int32_t partition, int64_t offset, const FetchOptions& options,
                       FetchBatch& out) = 0;

  // Joins consumer group `group_id` as a new member subscribed to `topics`.
  virtual Result<std::unique_ptr<Consumer>> subscribe(std::string_view group_id,
                                                      const std::vector<std::string>& topics,
                                                      const ConsumerOptions& options) = 0;
  // The group's committed offset of a partition; std::nullopt if it never committed one.
  virtual Result<std::optional<int64_t>> committed_offset(std::string_view group_id, std::string_view topic,
                                                          int32_t partition) = 0;
  // Groups with live members or committed offsets, sorted.
  virtual Result<std::vector<std::string>> list_groups() = 0;

  // --- Raw Kafka record batches (the Kafka-protocol broker's path: src/kafka/) ---
  // Appends one or more Kafka RecordBatch v2 (magic 2), concatenated as a Kafka client sent them, to one
  // partition. Every batch is checked first (header, CRC-32C, every record — decompressed for gzip, snappy,
  // lz4 and zstd batches, which are stored compressed; Corruption for anything malformed, an unknown codec or
  // a trailing partial batch) and nothing is
  // appended unless all pass (an I/O error part-way may leave the earlier batches of the call appended,
  // as produce() may). The bytes are then stored as received except baseOffset and
  // partitionLeaderEpoch, which lie outside the CRC and are rewritten in `bytes` in place (so the caller sees
  // the assigned offsets). Returns the offset given to the first record. NotFound for an unknown topic
  // (auto_create_topics applies) or partition; InvalidArgument for empty `bytes`. The default
  // implementation returns FailedPrecondition (backends without a local log).
  virtual Result<int64_t> append_raw_batches(std::string_view topic, int32_t partition,
                                             std::span<char> bytes);

  struct RawFetchResult {
    int64_t log_start_offset = 0;  // the partition's bounds when read (Kafka's logStartOffset, highWatermark)
    int64_t log_end_offset = 0;
    bool out_of_range = false;  // `offset` was outside [log start, log end]; nothing was read
  };
  // Appends to `out` whole stored batches of one partition, byte for byte, starting with the batch that holds
  // `offset` (which may therefore begin before it: Kafka clients skip such records), until adding the next
  // batch would exceed `max_bytes` — but always at least one batch when there is one. At the log end it waits
  // up to `timeout` for records. NotFound for an unknown topic or partition. Default: FailedPrecondition.
  virtual Status fetch_raw(std::string_view topic, int32_t partition, int64_t offset, int64_t max_bytes,
                           std::chrono::milliseconds timeout, std::string& out, RawFetchResult* result);

  // Durably commits offsets for group `group_id` without membership checks: for a group coordinator that
  // lives outside the bus (the Kafka-protocol broker's). Creates the group's offset store if needed; the
  // offsets are then visible to committed_offset() and to this bus's own Consumers of that group.
  // InvalidArgument for a bad group id or a negative offset. Default: FailedPrecondition.
  virtual Status commit_group_offsets(std::string_view group_id,
                                      std::span<const TopicPartitionOffset> offsets);
  // The group's committed offsets of every partition (sorted by topic, partition). Default:
  // FailedPrecondition.
  virtual Result<std::vector<TopicPartitionOffset>> group_offsets(std::string_view group_id);

  // Makes everything acknowledged so far durable (fsync), whatever the fsync policy.
  virtual Status sync() = 0;
};

// ---------------------------------------------------------------------------------------------------------
// The embedded backend: a durable log in a local directory

enum class FsyncPolicy {
  kEveryBatch,  // produce() and commit() return after fdatasync: survives power loss
  kInterval,    // a background thread fdatasyncs every fsync_interval_ms: survives kill -9 (the page cache
                // outlives the process); power loss may lose the last interval
  kNone,        // only on segment roll, sync() and close: survives kill -9
};

struct EmbeddedBusOptions {
  std::filesystem::path dir;                          // required; created if missing; one process at a time
  FsyncPolicy fsync_policy = FsyncPolicy::kInterval;  // see FsyncPolicy
  int64_t fsync_interval_ms = 1000;                   // milliseconds, for kInterval
  int64_t segment_bytes = 256 << 20;                  // bytes; default segment size of new topics
  int64_t index_interval_bytes = 4096;                // bytes of log between two sparse offset-index entries
  int64_t retention_check_interval_ms = 300000;       // milliseconds between retention passes (also on roll)
  bool auto_create_topics = false;                    // produce()/subscribe() create unknown topics
  int32_t default_partitions = 1;                     // partitions of auto-created topics
  std::shared_ptr<prometheus::Registry> metrics;      // optional; counters streamforge_bus_*
};

// Opens (creating if needed) the log in options.dir and recovers it: a torn tail of a partition (a batch
// half-written when the process died) is truncated with a warning; every acknowledged batch is kept.
// FailedPrecondition if another process (or another open Bus) holds the directory.
// Closing (destroying) the Bus syncs everything and releases the directory.
Result<std::unique_ptr<Bus>> open_embedded_bus(const EmbeddedBusOptions& options);

std::string_view fsync_policy_name(FsyncPolicy policy);

// ---------------------------------------------------------------------------------------------------------
// The Kafka backend: Apache Kafka, Redpanda or `streamforge broker` through librdkafka (bus/kafka/)
//
// How the Bus maps onto Kafka: produce() is acknowledged with acks=all (configurable) and partitions records
// itself with default_partition(), so both backends place keys identically; the records of one produce()
// call are enqueued together, so no other produce() of this Bus interleaves with them in a partition (another
// client of the cluster may). fetch() reads by offset with a group-less consumer; subscribe() joins a Kafka
// consumer group with auto-commit off: commit() is the only way offsets are committed (at-least-once).
// A group's assignment arrives asynchronously (Kafka's rebalance protocol): subscribe() waits up to
// join_timeout for the first one. PartitionInfo::size_bytes is -1 (Kafka reports it only per log dir).
// The raw-batch and external-group-offset methods are the embedded log's: FailedPrecondition here.
struct KafkaBusOptions {
  std::string bootstrap;  // required: HOST:PORT[,HOST:PORT...]
  // Security. The original deployment: sasl_ssl with SCRAM-SHA-512 and a private CA.
  std::string security_protocol = "plaintext";  // plaintext | ssl | sasl_plaintext | sasl_ssl
  std::string sasl_mechanism = "SCRAM-SHA-512";
  std::string sasl_username;
  std::string sasl_password;
  std::string ssl_ca_location;  // PEM file of the CA that signed the brokers' certificates
  // Producer.
  std::string acks = "all";            // all | 1 | 0
  std::string compression = "none";    // none | gzip | snappy | lz4 | zstd
  int32_t linger_ms = 5;               // milliseconds a batch may wait for more records
  int32_t batch_size = 1 << 20;        // bytes per partition batch
  int32_t batch_num_messages = 10000;  // records per partition batch
  // Topics this Bus creates (create_topic, ensure_topic, auto-create).
  int16_t replication_factor = -1;                   // -1: the cluster's default
  bool auto_create_topics = false;                   // produce()/subscribe() create unknown topics
  int32_t default_partitions = 1;                    // partitions of auto-created topics
  std::chrono::milliseconds request_timeout{30000};  // bound of every blocking call to the cluster
  std::chrono::milliseconds join_timeout{10000};     // subscribe() waits this long for a first assignment
  // Any further librdkafka property ("key", "value"), applied last to every client (e.g.
  // {"enable.idempotence", "true"}, {"session.timeout.ms", "10000"}).
  std::vector<std::pair<std::string, std::string>> config;
};

// Connects to the cluster (a metadata round trip, so a wrong address or credentials fail here: Unavailable).
// InvalidArgument for an empty bootstrap or a property librdkafka refuses (naming it).
Result<std::unique_ptr<Bus>> open_kafka_bus(const KafkaBusOptions& options);

// Parses "key=value" into a KafkaBusOptions::config entry; InvalidArgument without '=' or with an empty key.
Result<std::pair<std::string, std::string>> parse_kafka_property(std::string_view text);

// ---------------------------------------------------------------------------------------------------------
// Choosing a backend by configuration only

enum class BusBackend { kEmbedded, kKafka };

struct BusConfig {
  BusBackend backend = BusBackend::kEmbedded;
  EmbeddedBusOptions embedded;  // used with kEmbedded
  KafkaBusOptions kafka;        // used with kKafka
};

// "embedded" | "kafka"; InvalidArgument otherwise.
Result<BusBackend> parse_bus_backend(std::string_view name);
// Opens the configured backend.
Result<std::unique_ptr<Bus>> open_bus(const BusConfig& config);

}  // namespace sf::bus
