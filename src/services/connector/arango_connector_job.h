// The `arango-connector` job (`streamforge job arango-connector`): a thin wrapper around TopicSink.
//
// It consumes the workflow's data topic (`kafka_topic` of its start command) in the consumer group
// "<telemetry_id>-connector", upserts each polled batch into `collection_name` and commits only after the
// store acknowledged it; rejected documents go to "<queue_id>-dlq" with the reason and are counted. It
// publishes `loading` with records_written periodically, and follows `queue-events` for the workflow's
// loaders:
//   - every loader `completed`            -> drain the data topic to its log end offsets, end `completed`
//   - a loader ended `error`              -> drain what is there, end `error` naming the loader
//   - a loader ended `stopped`            -> drain what is there, end `stopped` naming the loader
//   - a `stop` for the workflow           -> stop after the batch in flight is committed, end `stopped`
// Which loaders: the telemetry ids listed in the start command's extra field `upstream` (the manager sets it;
// an empty list means "no loader: drain what is there and complete"); without the field, the first loader
// (producer "loader-...") to finish decides. Events are read from the start command's extra field
// `events_offset` (the queue-events offset at the workflow's creation), else from the log start.
// records_written counts documents written for this workflow across restarts (the group's committed offsets
// at start, less what was dead-lettered before, plus this run's writes).
#pragma once

#include <memory>

#include "services/job/job.h"

namespace sf::services {

class ArangoConnectorJob final : public Job {
 public:
  Status run(JobContext& ctx) override;
};

std::unique_ptr<Job> make_arango_connector_job();

// The consumer group of a connector: "<telemetry_id>-connector", or "<queue_id>-connector" without one.
std::string connector_group(const protocol::ControlMessage& start);

}  // namespace sf::services
