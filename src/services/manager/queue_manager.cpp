// The queue-manager: workflow registration, dispatch, launching, the event follower and restart recovery.
#include "services/manager/queue_manager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "protocol/control_message.h"
#include "protocol/naming.h"

#ifndef STREAMFORGE_VERSION
#define STREAMFORGE_VERSION "dev"
#endif

namespace sf::services {
namespace {

using protocol::Json;
using protocol::WorkflowStatus;

std::string event_key(std::string_view queue_id, int64_t offset) {
  return fmt::format("{}-{:020}", queue_id, offset);
}

Result<int64_t> log_end(bus::Bus& bus, std::string_view topic, int32_t partition) {
  auto info = bus.describe_topic(topic);
  if (!info) return info.status();
  for (const auto& p : info->partitions) {
    if (p.partition == partition) return p.log_end_offset;
  }
  return Status::not_found(fmt::format("topic '{}' has no partition {}", topic, partition));
}

}  // namespace

struct QueueManager::Impl {
  bus::Bus& bus;
  store::Store& store;
  JobLauncher& launcher;
  QueueManagerOptions options;

  std::mutex mu;
  std::condition_variable changed;
  std::map<std::string, WorkflowState, std::less<>> active;  // in-flight workflows; guarded by mu

  std::mutex listeners_mu;
  std::map<uint64_t, WorkflowListener> listeners;  // guarded by listeners_mu
  uint64_t next_token = 1;

  std::unique_ptr<bus::Consumer> consumer;
  std::jthread follower;

  prometheus::Counter* started_counter = nullptr;
  prometheus::Counter* events_counter = nullptr;
  prometheus::Counter* invalid_events_counter = nullptr;
  prometheus::Gauge* in_flight_gauge = nullptr;

  Impl(bus::Bus& b, store::Store& s, JobLauncher& l, QueueManagerOptions o)
      : bus(b), store(s), launcher(l), options(std::move(o)) {
    if (options.default_image.empty()) options.default_image = "streamforge:" STREAMFORGE_VERSION;
    if (!options.make_suffix) options.make_suffix = [] { return protocol::random_workflow_suffix(); };
    if (options.metrics) {
      started_counter = &prometheus::BuildCounter()
                             .Name("streamforge_manager_workflows_started_total")
                             .Help("Workflows registered by the queue-manager")
                             .Register(*options.metrics)
                             .Add({});
      auto& events = prometheus::BuildCounter()
                         .Name("streamforge_manager_events_total")
                         .Help("queue-events records read by the queue-manager, by result")
                         .Register(*options.metrics);
      events_counter = &events.Add({{"result", "folded"}});
      invalid_events_counter = &events.Add({{"result", "invalid"}});
      in_flight_gauge = &prometheus::BuildGauge()
                             .Name("streamforge_manager_workflows_in_flight")
                             .Help("Workflows with services that have not ended")
                             .Register(*options.metrics)
                             .Add({});
    }
  }

  // --- state and persistence (callers hold mu) -------------------------------------------------------------

  Status persist(const WorkflowState& w) {
    Json doc = Json::object();
    doc["_key"] = w.queue_id;
    Json body = w.to_json();
    for (auto it = body.begin(); it != body.end(); ++it) doc[it.key()] = it.value();
    std::vector<std::string> docs{protocol::detail::dump(doc, -1)};
    auto written = store.upsert(kStateCollection, docs, store::UpsertMode::kUpdate);
    if (!written) return written.status();
    if (!written->rejected.empty()) {
      return Status::internal(
          fmt::format("queue_state rejected workflow {}: {}", w.queue_id, written->rejected.front().message));
    }
    return Status::ok();
  }

  Result<std::optional<WorkflowState>> load(std::string_view queue_id) {
    auto doc = store.get(kStateCollection, queue_id);
    if (!doc) {
      if (doc.status().code() == ErrorCode::kInvalidArgument) return std::optional<WorkflowState>{};
      return doc.status();
    }
    if (!doc->has_value()) return std::optional<WorkflowState>{};
    Json json = Json::parse(**doc, nullptr, false);
    auto state = workflow_state_from_json(json);
    if (!state) return state.status();
    return std::optional<WorkflowState>{std::move(state).value()};
  }

  // The in-memory workflow, loading it from the store if needed; nullptr when unknown.
  Result<WorkflowState*> find_or_load(std::string_view queue_id) {
    if (auto it = active.find(queue_id); it != active.end()) return &it->second;
    auto loaded = load(queue_id);
    if (!loaded) return loaded.status();
    if (!loaded->has_value()) return static_cast<WorkflowState*>(nullptr);
    auto [it, inserted] = active.emplace(std::string(queue_id), std::move(**loaded));
    return &it->second;
  }

  void forget_if_finished(const std::string& queue_id) {
    auto it = active.find(queue_id);
    if (it != active.end() && it->second.finished()) active.erase(it);
    if (in_flight_gauge) in_flight_gauge->Set(static_cast<double>(active.size()));
  }

  // --- commands
  // ----------------------------------------------------------------------------------------------

  protocol::ControlMessage start_command(const WorkflowState& w, const ServiceState& s) const {
    protocol::ControlMessage m;
    m.command = protocol::Command::kStart;
    m.queue_id = w.queue_id;
    m.target = s.target;
    m.symbol = w.symbol;
    m.type = s.type;
    m.time_range = w.time_range;
    m.kafka_topic = w.kafka_topic;
    m.collection_name = s.collection_name;
    m.telemetry_id = s.telemetry_id;
    m.image = s.image;
    m.timestamp = epoch_seconds_now();
    m.extra = s.extra;
    return m;
  }

  // Publishes start commands for the given services (one produce, keyed by queue_id) and records where they
  // are.
  Status publish_starts(WorkflowState& w, const std::vector<size_t>& which) {
    std::vector<std::string> values;
    for (size_t i : which) values.push_back(protocol::serialize(start_command(w, w.services[i])));
    std::vector<bus::OutgoingRecord> records(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      records[i].key = w.queue_id;
      records[i].value = values[i];
    }
    auto produced = bus.produce(kControlTopic, records);
    if (!produced) return produced.status();
    for (size_t i = 0; i < which.size(); ++i) {
      w.services[which[i]].control_partition = produced->records[i].partition;
      w.services[which[i]].control_offset = produced->records[i].offset;
    }
    return Status::ok();
  }

  // A `stop` for the whole workflow, or for one service when `service` is given.
  Status publish_stop(std::string_view queue_id, const ServiceState* service = nullptr) {
    protocol::ControlMessage m;
    m.command = protocol::Command::kStop;
    m.queue_id = std::string(queue_id);
    if (service) {
      m.target = service->target;
      m.telemetry_id = service->telemetry_id;
    }
    m.timestamp = epoch_seconds_now();
    std::string value = protocol::serialize(m);
    bus::OutgoingRecord record;
    record.key = queue_id;
    record.value = value;
    auto produced = bus.produce(kControlTopic, std::span<const bus::OutgoingRecord>(&record, 1));
    return produced.status();
  }

  // Launches the service's job; on failure marks it `error`. Returns whether it launched.
  bool launch(WorkflowState& w, ServiceState& s, double now) {
    JobSpec spec;
    spec.queue_id = w.queue_id;
    spec.target = s.target;
    spec.telemetry_id = s.telemetry_id;
    spec.control_partition = s.control_partition;
    spec.control_offset = s.control_offset;
    spec.image = s.image;
    Status launched = launcher.launch(spec);
    if (launched) return true;
    spdlog::error("manager: launching {} of {}: {}", s.telemetry_id, w.queue_id, launched.to_string());
    s.status = WorkflowStatus::kError;
    s.message = fmt::format("launch failed: {}", launched.message());
    s.finished = true;
    s.finished_at = now;
    s.updated_at = now;
    return false;
  }

  // After a failure, once: stop the workflow's other jobs. A service that reported its own error leaves the
  // connectors running (`spare_connectors`): they see their loader end, save what it published and end on
  // their own. A launch failure stops everything: a loader that never ran never reports, so its connector
  // would wait.
  void stop_after_failure(WorkflowState& w, double now, bool spare_connectors) {
    if (w.stop_requested || w.finished()) return;
    Status stopped;
    if (!spare_connectors) {
      stopped = publish_stop(w.queue_id);
    } else {
      for (const auto& s : w.services) {
        if (s.terminal() || s.target == protocol::target_name(protocol::Target::kArangoConnector)) continue;
        if (stopped = publish_stop(w.queue_id, &s); !stopped) break;
      }
    }
    if (!stopped) {
      spdlog::error("manager: publishing stop for {}: {}", w.queue_id, stopped.to_string());
      return;
    }
    w.stop_requested = true;
    w.stop_requested_at = now;
  }

  // --- the event follower
  // -------------------------------------------------------------------------------------

  // Folds a polled batch into the workflows, persists states and the event log. Returns the changed states.
  Result<std::vector<WorkflowState>> process(const bus::FetchBatch& batch) {
    std::vector<WorkflowState> changed_states;
    std::vector<std::string> event_docs;
    std::set<std::string> dirty;
    std::set<std::string, std::less<>> touched, unknown;
    std::lock_guard lock(mu);
    for (const auto& record : batch) {
      auto event = protocol::parse_event_message(record.value);
      if (!event) {
        spdlog::warn("manager: skipping {}/{}@{}: {}", record.topic, record.partition, record.offset,
                     event.status().message());
        if (invalid_events_counter) invalid_events_counter->Increment();
        continue;
      }
      if (unknown.count(event->queue_id)) continue;
      auto workflow = find_or_load(event->queue_id);
      if (!workflow) return workflow.status();
      if (*workflow == nullptr) {  // not one of ours
        unknown.insert(event->queue_id);
        continue;
      }
      touched.insert(event->queue_id);
      if (events_counter) events_counter->Increment();
      Json doc = Json::object();
      doc["_key"] = event_key(event->queue_id, record.offset);
      Json body = protocol::to_json(*event);
      for (auto it = body.begin(); it != body.end(); ++it) doc[it.key()] = it.value();
      doc["offset"] = record.offset;
      doc["partition"] = record.partition;
      event_docs.push_back(protocol::detail::dump(doc, -1));
      if (apply_event(**workflow, *event, record.offset)) dirty.insert(event->queue_id);
    }
    if (!event_docs.empty()) {
      auto written = store.upsert(kEventsCollection, event_docs, store::UpsertMode::kReplace);
      if (!written) return written.status();
    }
    const double now = epoch_seconds_now();
    for (const auto& queue_id : dirty) {
      WorkflowState& w = active.find(queue_id)->second;
      const WorkflowStatus before = w.status;
      recompute_status(w, now);
      if (w.status == WorkflowStatus::kError) stop_after_failure(w, now, /*spare_connectors=*/true);
      SF_RETURN_IF_ERROR(persist(w));
      if (w.status != before) {
        spdlog::info("manager: workflow {} is {}{}", queue_id, protocol::status_name(w.status),
                     w.error.empty() ? "" : fmt::format(" ({})", w.error));
      }
      changed_states.push_back(w);
    }
    // Finished workflows leave memory (a late event reloads them from the store).
    for (const auto& queue_id : touched) forget_if_finished(queue_id);
    return changed_states;
  }

  // Processes one poll; returns false when the consumer was woken up (shutting down).
  bool poll_once(bus::FetchBatch& batch) {
    Status polled = consumer->poll(options.poll_timeout, batch);
    if (polled.code() == ErrorCode::kCancelled) return false;
    if (!polled) {
      spdlog::error("manager: polling {}: {}", kEventsTopic, polled.to_string());
      std::this_thread::sleep_for(options.poll_timeout);
      return true;
    }
    if (batch.empty()) return true;
    auto processed = process(batch);
    if (!processed) {
      // Not committed: rewind so the batch is read again (the fold skips what it already applied).
      spdlog::error("manager: folding events: {}; retrying", processed.status().to_string());
      std::map<int32_t, int64_t> first;
      for (const auto& record : batch) first.emplace(record.partition, record.offset);
      for (const auto& [partition, offset] : first) (void)consumer->seek(kEventsTopic, partition, offset);
      std::this_thread::sleep_for(options.poll_timeout);
      return true;
    }
    if (Status committed = consumer->commit(); !committed) {
      spdlog::warn("manager: committing {}: {}", kEventsTopic, committed.to_string());
    }
    changed.notify_all();
    notify(*processed);
    return true;
  }

  void notify(const std::vector<WorkflowState>& states) {
    if (states.empty()) return;
    std::vector<WorkflowListener> copy;
    {
      std::lock_guard lock(listeners_mu);
      for (const auto& [token, listener] : listeners) copy.push_back(listener);
    }
    for (const auto& state : states) {
      for (const auto& listener : copy) {
        try {
          listener(state);
        } catch (const std::exception& e) {
          spdlog::warn("manager: a workflow listener threw: {}", e.what());
        }
      }
    }
  }

  // Folds in everything published on queue-events up to now (what happened while no manager ran).
  Status catch_up() {
    auto info = bus.describe_topic(kEventsTopic);
    if (!info) return info.status();
    std::map<int32_t, int64_t> ends;
    for (const auto& p : info->partitions) ends[p.partition] = p.log_end_offset;
    const auto deadline = std::chrono::steady_clock::now() + options.catch_up_timeout;
    bus::FetchBatch batch;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!poll_once(batch)) break;
      auto assigned = consumer->assignment();
      if (assigned.empty()) continue;
      bool done = true;
      for (const auto& tp : assigned) {
        auto position = consumer->position(tp.topic, tp.partition);
        if (!position || *position < ends[tp.partition]) done = false;
      }
      if (done) return Status::ok();
    }
    spdlog::warn("manager: still catching up on {} after {} ms; resuming anyway", kEventsTopic,
                 options.catch_up_timeout.count());
    return Status::ok();
  }

  // Relaunches every service of the in-flight workflows that has not ended.
  Status resume_in_flight() {
    std::vector<WorkflowState> changed_states;
    {
      std::lock_guard lock(mu);
      const double now = epoch_seconds_now();
      std::vector<std::string> ids;
      for (const auto& [id, w] : active) ids.push_back(id);
      for (const auto& id : ids) {
        WorkflowState& w = active.find(id)->second;
        std::vector<size_t> unsent;
        for (size_t i = 0; i < w.services.size(); ++i) {
          if (!w.services[i].terminal() && !w.services[i].control_offset) unsent.push_back(i);
        }
        // A crash between registering and dispatching: send the missing start commands now.
        if (!unsent.empty()) SF_RETURN_IF_ERROR(publish_starts(w, unsent));
        bool failed = false;
        size_t relaunched = 0;
        for (auto& s : w.services) {
          if (s.terminal()) continue;
          failed |= !launch(w, s, now);
          ++relaunched;
        }
        spdlog::info("manager: resuming workflow {} ({}): relaunched {} service(s)", id,
                     protocol::status_name(w.status), relaunched);
        recompute_status(w, now);
        if (failed) stop_after_failure(w, now, /*spare_connectors=*/false);
        SF_RETURN_IF_ERROR(persist(w));
        changed_states.push_back(w);
        forget_if_finished(id);
      }
    }
    notify(changed_states);
    return Status::ok();
  }

  Status reload() {
    std::lock_guard lock(mu);
    SF_RETURN_IF_ERROR(store.scan(kStateCollection, {}, [&](std::string_view key, std::string_view doc) {
      auto state = workflow_state_from_json(Json::parse(doc, nullptr, false));
      if (!state) {
        spdlog::error("manager: queue_state document '{}' is unreadable: {}", key,
                      state.status().to_string());
        return true;
      }
      if (!state->finished()) active.emplace(state->queue_id, std::move(state).value());
      return true;
    }));
    if (in_flight_gauge) in_flight_gauge->Set(static_cast<double>(active.size()));
    if (!active.empty()) spdlog::info("manager: {} workflow(s) in flight at start-up", active.size());
    return Status::ok();
  }
};

// -------------------------------------------------------------------------------------------------------------

QueueManager::QueueManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

QueueManager::~QueueManager() {
  if (impl_->follower.joinable()) {
    impl_->follower.request_stop();
    impl_->consumer->wakeup();
    impl_->follower.join();
  }
  if (impl_->consumer) (void)impl_->consumer->close();
}

Result<std::unique_ptr<QueueManager>> QueueManager::open(bus::Bus& bus, store::Store& store,
                                                         JobLauncher& launcher, QueueManagerOptions options) {
  auto impl = std::make_unique<Impl>(bus, store, launcher, std::move(options));
  SF_RETURN_IF_ERROR(ensure_service_topics(bus, impl->options.topics));
  SF_RETURN_IF_ERROR(store.create_collection(kStateCollection));
  SF_RETURN_IF_ERROR(store.create_collection(kEventsCollection));
  SF_RETURN_IF_ERROR(impl->reload());
  auto consumer = bus.subscribe(kManagerGroup, {std::string(kEventsTopic)}, bus::ConsumerOptions{});
  if (!consumer) return consumer.status();
  impl->consumer = std::move(consumer).value();
  std::unique_ptr<QueueManager> manager(new QueueManager(std::move(impl)));
  Impl& s = *manager->impl_;
  SF_RETURN_IF_ERROR(s.catch_up());
  SF_RETURN_IF_ERROR(s.resume_in_flight());
  s.follower = std::jthread([&s](std::stop_token stop) {
    bus::FetchBatch batch;
    while (!stop.stop_requested()) {
      if (!s.poll_once(batch) && stop.stop_requested()) break;
    }
  });
  return manager;
}

const std::string& QueueManager::default_image() const {
  return impl_->options.default_image;
}

Result<WorkflowState> QueueManager::start(const StartRequest& request) {
  auto plan = plan_workflow(request);
  if (!plan) return plan.status();
  Impl& s = *impl_;
  WorkflowState snapshot;
  {
    std::lock_guard lock(s.mu);
    const double now = epoch_seconds_now();
    std::string queue_id;
    for (int attempt = 0; attempt < 16 && queue_id.empty(); ++attempt) {
      auto id =
          protocol::make_workflow_id(plan->symbol, plan->type, plan->range.start_ms, s.options.make_suffix());
      if (!id) return id.status();
      if (s.active.count(*id)) continue;
      auto existing = s.load(*id);
      if (!existing) return existing.status();
      if (!existing->has_value()) queue_id = *id;
    }
    if (queue_id.empty()) return Status::internal("could not find an unused workflow id in 16 attempts");
    auto collection = protocol::collection_name(plan->symbol, plan->type, plan->range.start_ms);
    if (!collection) return collection.status();

    WorkflowState w;
    w.queue_id = queue_id;
    w.symbol = plan->symbol;
    w.type = plan->type.name();
    w.time_range = plan->time_range;
    w.created_at = now;
    w.updated_at = now;
    w.collection_name = *collection;
    w.kafka_topic = protocol::data_topic(queue_id);
    SF_RETURN_IF_ERROR(
        s.bus.ensure_topic(w.kafka_topic, bus::TopicConfig{.partitions = s.options.data_partitions}));
    auto events_partition = partition_for_key(s.bus, kEventsTopic, queue_id);
    if (!events_partition) return events_partition.status();
    auto events_end = log_end(s.bus, kEventsTopic, *events_partition);
    if (!events_end) return events_end.status();
    w.events_offset = *events_end;

    // The workflow's collection is where its connector writes: the connector's override, else the seed's
    // name.
    for (const auto& p : plan->services) {
      if (p.worker == protocol::Worker::kConnector && !p.collection_name.empty())
        w.collection_name = p.collection_name;
    }
    Json loaders = Json::array();
    for (const auto& p : plan->services) {
      if (p.target.rfind("loader-", 0) == 0) loaders.push_back(protocol::telemetry_id(p.target, queue_id));
    }
    for (const auto& p : plan->services) {
      ServiceState svc;
      svc.target = p.target;
      svc.type = p.type.name();
      svc.telemetry_id = protocol::telemetry_id(p.target, queue_id);
      svc.updated_at = now;
      svc.collection_name = p.collection_name.empty() ? w.collection_name : p.collection_name;
      svc.image = p.image.empty() ? s.options.default_image : p.image;
      svc.extra = p.extra;
      svc.extra["events_offset"] = w.events_offset;
      if (p.worker == protocol::Worker::kConnector && !svc.extra.contains("upstream"))
        svc.extra["upstream"] = loaders;
      w.services.push_back(std::move(svc));
    }
    s.active.emplace(queue_id, w);
    WorkflowState& state = s.active.find(queue_id)->second;
    SF_RETURN_IF_ERROR(s.persist(state));  // step 2: registered, `pending`
    if (s.started_counter) s.started_counter->Increment();
    spdlog::info("manager: workflow {} registered ({} services, {} {})", queue_id, state.services.size(),
                 state.type, state.time_range);

    std::vector<size_t> all(state.services.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    if (Status published = s.publish_starts(state, all); !published) {  // step 3
      for (auto& svc : state.services) {
        svc.status = WorkflowStatus::kError;
        svc.message = fmt::format("start command not published: {}", published.message());
        svc.finished = true;
        svc.finished_at = now;
      }
    } else {
      SF_RETURN_IF_ERROR(s.persist(state));
      bool failed = false;
      for (auto& svc : state.services) failed |= !s.launch(state, svc, now);  // step 4
      if (failed) s.stop_after_failure(state, now, /*spare_connectors=*/false);
    }
    recompute_status(state, now);
    SF_RETURN_IF_ERROR(s.persist(state));
    snapshot = state;
    s.forget_if_finished(queue_id);
  }
  s.changed.notify_all();
  s.notify({snapshot});
  return snapshot;
}

Result<WorkflowState> QueueManager::stop(std::string_view queue_id) {
  Impl& s = *impl_;
  WorkflowState snapshot;
  {
    std::lock_guard lock(s.mu);
    auto found = s.find_or_load(queue_id);
    if (!found) return found.status();
    if (*found == nullptr) return Status::not_found(fmt::format("workflow '{}' does not exist", queue_id));
    WorkflowState& w = **found;
    if (w.finished()) {
      Status finished = Status::failed_precondition(
          fmt::format("workflow '{}' has already finished ({})", queue_id, protocol::status_name(w.status)));
      s.forget_if_finished(w.queue_id);
      return finished;
    }
    SF_RETURN_IF_ERROR(s.publish_stop(queue_id));
    const double now = epoch_seconds_now();
    w.stop_requested = true;
    if (!w.stop_requested_at) w.stop_requested_at = now;
    w.updated_at = now;
    SF_RETURN_IF_ERROR(s.persist(w));
    spdlog::info("manager: stop requested for workflow {}", queue_id);
    snapshot = w;
  }
  s.changed.notify_all();
  s.notify({snapshot});
  return snapshot;
}

Result<WorkflowState> QueueManager::get(std::string_view queue_id) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  if (auto it = s.active.find(queue_id); it != s.active.end()) return it->second;
  auto loaded = s.load(queue_id);
  if (!loaded) return loaded.status();
  if (!loaded->has_value()) return Status::not_found(fmt::format("workflow '{}' does not exist", queue_id));
  return std::move(**loaded);
}

Result<std::vector<WorkflowState>> QueueManager::list() {
  Impl& s = *impl_;
  std::vector<WorkflowState> out;
  SF_RETURN_IF_ERROR(s.store.scan(kStateCollection, {}, [&](std::string_view key, std::string_view doc) {
    auto state = workflow_state_from_json(Json::parse(doc, nullptr, false));
    if (state) {
      out.push_back(std::move(state).value());
    } else {
      spdlog::warn("manager: skipping unreadable queue_state document '{}'", key);
    }
    return true;
  }));
  std::sort(out.begin(), out.end(), [](const WorkflowState& a, const WorkflowState& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.queue_id < b.queue_id;
  });
  return out;
}

Result<std::vector<StoredEvent>> QueueManager::events(std::string_view queue_id) {
  auto workflow = get(queue_id);
  if (!workflow) return workflow.status();
  std::vector<StoredEvent> out;
  store::ScanOptions range;
  range.from_key = fmt::format("{}-", queue_id);
  range.to_key = fmt::format("{}.", queue_id);  // '.' follows '-': every "<queue_id>-<offset>" key
  SF_RETURN_IF_ERROR(impl_->store.scan(kEventsCollection, range, [&](std::string_view, std::string_view doc) {
    Json json = Json::parse(doc, nullptr, false);
    if (!json.is_object()) return true;
    StoredEvent stored;
    stored.offset = json.value("offset", int64_t{-1});
    for (const char* internal : {"_key", "_id", "_rev", "offset", "partition"}) json.erase(internal);
    auto event = protocol::event_message_from_json(json);
    if (!event || event->queue_id != queue_id) return true;
    stored.event = std::move(event).value();
    out.push_back(std::move(stored));
    return true;
  }));
  return out;
}

uint64_t QueueManager::subscribe(WorkflowListener listener) {
  std::lock_guard lock(impl_->listeners_mu);
  uint64_t token = impl_->next_token++;
  impl_->listeners.emplace(token, std::move(listener));
  return token;
}

void QueueManager::unsubscribe(uint64_t token) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->listeners.erase(token);
}

Result<WorkflowState> QueueManager::wait_finished(std::string_view queue_id,
                                                  std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  {
    std::unique_lock lock(s.mu);
    s.changed.wait_for(lock, timeout, [&] {
      auto it = s.active.find(queue_id);
      return it == s.active.end() || it->second.finished();
    });
  }
  auto state = get(queue_id);
  if (!state) return state.status();
  if (!state->finished()) {
    return Status::timeout(fmt::format("workflow '{}' is still {} after {} ms", queue_id,
                                       protocol::status_name(state->status), timeout.count()));
  }
  return state;
}

}  // namespace sf::services
