// The broker's group coordinator (see group_coordinator.h). States and error codes follow Kafka's
// GroupCoordinator: Empty -> PreparingRebalance (members rejoin) -> CompletingRebalance (the leader's
// SyncGroup carries the assignment) -> Stable; a join, leave or session timeout starts a new rebalance.
#include "kafka/group_coordinator.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kafka/producer_state.h"
#include "kafka/protocol.h"

namespace sf::kafka {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

GroupCoordinator::GroupCoordinator(bus::Bus& bus, const BrokerOptions& options)
    : bus_(bus),
      options_(options),
      member_salt_(std::random_device{}() ^
                   static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())),
      reaper_([this] { reaper_loop(); }) {}

GroupCoordinator::~GroupCoordinator() {
  stop();
}

void GroupCoordinator::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

const char* GroupCoordinator::state_name(State state) {
  switch (state) {
    case State::kEmpty:
      return "Empty";
    case State::kPreparingRebalance:
      return "PreparingRebalance";
    case State::kCompletingRebalance:
      return "CompletingRebalance";
    case State::kStable:
      return "Stable";
  }
  return "Dead";
}

GroupCoordinator::Group& GroupCoordinator::group_locked(const std::string& id) {
  auto [it, inserted] = groups_.try_emplace(id);
  if (inserted) it->second.id = id;
  return it->second;
}

void GroupCoordinator::prepare_rebalance_locked(Group& group) {
  if (group.state == State::kPreparingRebalance) return;
  group.state = State::kPreparingRebalance;
  int32_t timeout = 0;
  for (auto& [id, m] : group.members) {
    m.joined = false;
    timeout = std::max(timeout, m.rebalance_timeout_ms);
  }
  group.rebalance_deadline = Clock::now() + std::chrono::milliseconds(timeout);
  spdlog::info("kafka: group '{}' preparing rebalance (generation {}, {} members)", group.id,
               group.generation, group.members.size());
  cv_.notify_all();
}

void GroupCoordinator::maybe_complete_join_locked(Group& group, bool deadline_passed) {
  if (group.state != State::kPreparingRebalance) return;
  if (deadline_passed) {
    std::vector<std::string> laggards;
    for (const auto& [id, m] : group.members)
      if (!m.joined) laggards.push_back(id);
    for (const auto& id : laggards) {
      spdlog::info("kafka: group '{}': member {} did not rejoin in time: removed", group.id, id);
      group.members.erase(id);
    }
  }
  for (const auto& [id, m] : group.members)
    if (!m.joined) return;
  ++group.generation;
  ++group.assignment_round;
  if (group.members.empty()) {
    group.state = State::kEmpty;
    group.leader.clear();
    group.protocol_name.clear();
    spdlog::info("kafka: group '{}' is empty (generation {})", group.id, group.generation);
    cv_.notify_all();
    return;
  }
  if (!group.members.contains(group.leader)) group.leader = group.members.begin()->first;
  // The protocol: the leader's first choice that every member supports.
  group.protocol_name.clear();
  for (const auto& candidate : group.members.at(group.leader).protocols) {
    const bool everyone = std::all_of(group.members.begin(), group.members.end(), [&](const auto& entry) {
      const auto& ps = entry.second.protocols;
      return std::any_of(ps.begin(), ps.end(), [&](const Protocol& p) { return p.name == candidate.name; });
    });
    if (everyone) {
      group.protocol_name = candidate.name;
      break;
    }
  }
  for (auto& [id, m] : group.members) m.assignment.clear();
  group.state = State::kCompletingRebalance;
  spdlog::info("kafka: group '{}' generation {}: {} members, leader {}, protocol '{}'", group.id,
               group.generation, group.members.size(), group.leader, group.protocol_name);
  cv_.notify_all();
}

void GroupCoordinator::remove_member_locked(Group& group, const std::string& member_id, const char* why) {
  if (group.members.erase(member_id) == 0) return;
  spdlog::info("kafka: group '{}': member {} {}", group.id, member_id, why);
  if (group.leader == member_id) group.leader.clear();
  prepare_rebalance_locked(group);
  maybe_complete_join_locked(group, false);
  cv_.notify_all();
}

GroupCoordinator::JoinResponse GroupCoordinator::join(const JoinRequest& request) {
  JoinResponse response;
  response.member_id = request.member_id;
  if (!bus::validate_group_id(request.group_id)) {
    response.error = err::kInvalidGroupId;
    return response;
  }
  if (request.session_timeout_ms < options_.group_min_session_timeout_ms ||
      request.session_timeout_ms > options_.group_max_session_timeout_ms) {
    response.error = err::kInvalidSessionTimeout;
    return response;
  }
  if (request.protocols.empty() || request.protocol_type.empty()) {
    response.error = err::kInconsistentGroupProtocol;
    return response;
  }
  std::unique_lock lock(mu_);
  if (stopping_) {
    response.error = err::kCoordinatorNotAvailable;
    return response;
  }
  Group& group = group_locked(request.group_id);
  if (!group.members.empty() && group.protocol_type != request.protocol_type) {
    response.error = err::kInconsistentGroupProtocol;
    return response;
  }
  std::string member_id = request.member_id;
  if (member_id.empty()) {
    // Kafka's form: clientId-UUID; unique across broker restarts too.
    member_id = fmt::format("{}-{:016x}-{}", request.client_id.empty() ? "member" : request.client_id,
                            member_salt_, ++member_seq_);
    if (request.require_known_member_id) {
      group.pending_ids.push_back(member_id);
      response.error = err::kMemberIdRequired;
      response.member_id = member_id;
      return response;
    }
  } else if (!group.members.contains(member_id)) {
    auto pending = std::find(group.pending_ids.begin(), group.pending_ids.end(), member_id);
    if (pending == group.pending_ids.end()) {
      response.error = err::kUnknownMemberId;
      return response;
    }
    group.pending_ids.erase(pending);
  }
  group.protocol_type = request.protocol_type;
  Member& member = group.members[member_id];
  const bool is_new = member.id.empty();
  member.id = member_id;
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms =
      std::clamp(request.rebalance_timeout_ms, request.session_timeout_ms,
                 std::max(request.session_timeout_ms, options_.group_max_rebalance_timeout_ms));
  member.protocols = request.protocols;
  member.last_seen = Clock::now();
  if (is_new) spdlog::info("kafka: group '{}': member {} joins", group.id, member_id);
  prepare_rebalance_locked(group);
  group.rebalance_deadline = std::max(group.rebalance_deadline,
                                      Clock::now() + std::chrono::milliseconds(member.rebalance_timeout_ms));
  member.joined = true;
  const uint64_t round = group.assignment_round;
  maybe_complete_join_locked(group, false);
  while (group.assignment_round == round && !stopping_) {
    if (Clock::now() >= group.rebalance_deadline) {
      maybe_complete_join_locked(group, true);
      break;
    }
    cv_.wait_for(lock, 100ms);
    if (auto it = group.members.find(member_id); it != group.members.end())
      it->second.last_seen = Clock::now();
  }
  auto it = group.members.find(member_id);
  // The round this member joined completed: answer with it even if the leader's SyncGroup already made the
  // group stable (or a newer rebalance began) before this thread woke — Kafka sends every JoinGroup response
  // at completion time. Checking the state instead refused late-waking members with REBALANCE_IN_PROGRESS.
  if (stopping_ || it == group.members.end() || group.assignment_round == round ||
      group.state == State::kEmpty) {
    response.error = stopping_                   ? err::kCoordinatorNotAvailable
                     : it == group.members.end() ? err::kUnknownMemberId
                                                 : err::kRebalanceInProgress;
    return response;
  }
  it->second.last_seen = Clock::now();
  response.member_id = member_id;
  response.generation_id = group.generation;
  response.protocol_name = group.protocol_name;
  response.leader_id = group.leader;
  if (member_id == group.leader) {
    for (const auto& [id, m] : group.members) {
      for (const auto& p : m.protocols) {
        if (p.name == group.protocol_name) {
          response.members.push_back({id, p.metadata});
          break;
        }
      }
    }
  }
  return response;
}

GroupCoordinator::SyncResponse GroupCoordinator::sync(
    const std::string& group_id, int32_t generation_id, const std::string& member_id,
    const std::vector<std::pair<std::string, std::string>>& assignments) {
  SyncResponse response;
  std::unique_lock lock(mu_);
  auto git = groups_.find(group_id);
  if (git == groups_.end() || !git->second.members.contains(member_id)) {
    response.error = err::kUnknownMemberId;
    return response;
  }
  Group& group = git->second;
  if (generation_id != group.generation) {
    response.error = err::kIllegalGeneration;
    return response;
  }
  if (group.state == State::kPreparingRebalance) {
    response.error = err::kRebalanceInProgress;
    return response;
  }
  group.members.at(member_id).last_seen = Clock::now();
  if (group.state == State::kCompletingRebalance && member_id == group.leader) {
    for (const auto& [id, assignment] : assignments) {
      if (auto it = group.members.find(id); it != group.members.end()) it->second.assignment = assignment;
    }
    group.state = State::kStable;
    spdlog::info("kafka: group '{}' generation {} is stable", group.id, group.generation);
    cv_.notify_all();
  }
  while (group.state == State::kCompletingRebalance && group.generation == generation_id && !stopping_) {
    cv_.wait_for(lock, 100ms);
    if (auto it = group.members.find(member_id); it != group.members.end())
      it->second.last_seen = Clock::now();
  }
  auto it = group.members.find(member_id);
  if (it == group.members.end()) {
    response.error = err::kUnknownMemberId;
  } else if (group.state != State::kStable || group.generation != generation_id) {
    response.error = err::kRebalanceInProgress;
  } else {
    response.assignment = it->second.assignment;
  }
  return response;
}

int16_t GroupCoordinator::heartbeat(const std::string& group_id, int32_t generation_id,
                                    const std::string& member_id) {
  std::lock_guard lock(mu_);
  auto git = groups_.find(group_id);
  if (git == groups_.end()) return err::kUnknownMemberId;
  Group& group = git->second;
  auto it = group.members.find(member_id);
  if (it == group.members.end()) return err::kUnknownMemberId;
  if (generation_id != group.generation) return err::kIllegalGeneration;
  it->second.last_seen = Clock::now();
  if (group.state == State::kPreparingRebalance) return err::kRebalanceInProgress;
  return err::kNone;
}

int16_t GroupCoordinator::leave(const std::string& group_id, const std::string& member_id) {
  std::lock_guard lock(mu_);
  auto git = groups_.find(group_id);
  if (git == groups_.end() || !git->second.members.contains(member_id)) return err::kUnknownMemberId;
  remove_member_locked(git->second, member_id, "left the group");
  return err::kNone;
}

int16_t GroupCoordinator::check_commit(const std::string& group_id, int32_t generation_id,
                                       const std::string& member_id) {
  if (!bus::validate_group_id(group_id)) return err::kInvalidGroupId;
  std::lock_guard lock(mu_);
  auto git = groups_.find(group_id);
  const bool has_members = git != groups_.end() && !git->second.members.empty();
  if (generation_id < 0 && member_id.empty() && !has_members) return err::kNone;  // a "simple" commit
  if (git == groups_.end()) return err::kUnknownMemberId;
  Group& group = git->second;
  if (group.state == State::kCompletingRebalance) return err::kRebalanceInProgress;
  auto it = group.members.find(member_id);
  if (it == group.members.end()) return err::kUnknownMemberId;
  if (generation_id != group.generation) return err::kIllegalGeneration;
  it->second.last_seen = Clock::now();
  return err::kNone;
}

std::vector<GroupCoordinator::GroupSummary> GroupCoordinator::list_groups() {
  std::vector<GroupSummary> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, g] : groups_) out.push_back({id, g.protocol_type, state_name(g.state)});
  }
  if (auto stored = bus_.list_groups()) {
    for (const auto& id : *stored) {
      if (id == ProducerStateTable::kIdGroup) continue;  // the broker's own bookkeeping, not a consumer group
      if (std::none_of(out.begin(), out.end(), [&](const GroupSummary& s) { return s.group_id == id; }))
        out.push_back({id, "consumer", "Empty"});
    }
  }
  return out;
}

GroupCoordinator::GroupDescription GroupCoordinator::describe(const std::string& group_id) {
  GroupDescription d;
  {
    std::lock_guard lock(mu_);
    if (auto it = groups_.find(group_id); it != groups_.end()) {
      const Group& g = it->second;
      d.state = state_name(g.state);
      d.protocol_type = g.protocol_type;
      d.protocol_name = g.state == State::kStable ? g.protocol_name : "";
      for (const auto& [id, m] : g.members) {
        MemberDescription md{
            id, m.client_id, m.client_host, {}, g.state == State::kStable ? m.assignment : ""};
        for (const auto& p : m.protocols) {
          if (p.name == g.protocol_name) md.metadata = p.metadata;
        }
        d.members.push_back(std::move(md));
      }
      return d;
    }
  }
  if (auto stored = bus_.group_offsets(group_id); stored && !stored->empty()) {
    d.state = "Empty";
    d.protocol_type = "consumer";
  }
  return d;
}

void GroupCoordinator::reaper_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, 100ms);
    const auto now = Clock::now();
    for (auto& [gid, group] : groups_) {
      std::vector<std::string> expired;
      for (const auto& [id, m] : group.members) {
        if (now - m.last_seen > std::chrono::milliseconds(m.session_timeout_ms)) expired.push_back(id);
      }
      for (const auto& id : expired) remove_member_locked(group, id, "timed out (session timeout)");
      if (group.state == State::kPreparingRebalance && now >= group.rebalance_deadline)
        maybe_complete_join_locked(group, true);
    }
  }
}

}  // namespace sf::kafka
