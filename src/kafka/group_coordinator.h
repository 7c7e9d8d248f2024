// The Kafka group coordinator of the broker: consumer-group membership (JoinGroup/SyncGroup/Heartbeat/
// LeaveGroup), generations and rebalances, session timeouts; committed offsets go to the bus's durable
// group offset store (Bus::commit_group_offsets). Internal to kafka/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "kafka/kafka.h"

namespace sf::kafka {

// Thread-safe. JoinGroup and SyncGroup block the calling (connection) thread until the rebalance step
// completes, as a Kafka broker delays those responses.
class GroupCoordinator {
 public:
  GroupCoordinator(bus::Bus& bus, const BrokerOptions& options);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  struct Protocol {
    std::string name;
    std::string metadata;
  };
  struct JoinRequest {
    std::string group_id;
    std::string member_id;  // "" for a new member
    std::string client_id, client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<Protocol> protocols;
    bool require_known_member_id = false;  // JoinGroup v4+: answer MEMBER_ID_REQUIRED to a new member
  };
  struct JoinMember {
    std::string member_id;
    std::string metadata;
  };
  struct JoinResponse {
    int16_t error = 0;
    int32_t generation_id = -1;
    std::string protocol_name;
    std::string leader_id;
    std::string member_id;
    std::vector<JoinMember> members;  // only for the leader
  };
  JoinResponse join(const JoinRequest& request);

  struct SyncResponse {
    int16_t error = 0;
    std::string assignment;
  };
  SyncResponse sync(const std::string& group_id, int32_t generation_id, const std::string& member_id,
                    const std::vector<std::pair<std::string, std::string>>& assignments);
  int16_t heartbeat(const std::string& group_id, int32_t generation_id, const std::string& member_id);
  int16_t leave(const std::string& group_id, const std::string& member_id);

  // Checks that a commit may proceed (generation -1 with an empty member id: a "simple" commit by a client
  // outside any group generation, always allowed).
  int16_t check_commit(const std::string& group_id, int32_t generation_id, const std::string& member_id);

  struct GroupSummary {
    std::string group_id;
    std::string protocol_type;
    std::string state;
  };
  std::vector<GroupSummary> list_groups();

  struct MemberDescription {
    std::string member_id, client_id, client_host, metadata, assignment;
  };
  struct GroupDescription {
    std::string state = "Dead";  // Kafka's name for a group the coordinator does not know
    std::string protocol_type, protocol_name;
    std::vector<MemberDescription> members;
  };
  GroupDescription describe(const std::string& group_id);

  // Ends waiting joins/syncs and the session reaper.
  void stop();

 private:
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };
  struct Member {
    std::string id;
    std::string client_id, client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<Protocol> protocols;
    std::chrono::steady_clock::time_point last_seen;
    bool joined = false;  // joined in the current PreparingRebalance round
    std::string assignment;
  };
  struct Group {
    std::string id;
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::string protocol_name;
    std::string leader;
    std::map<std::string, Member> members;
    std::vector<std::string> pending_ids;  // handed out with MEMBER_ID_REQUIRED
    std::chrono::steady_clock::time_point rebalance_deadline;
    uint64_t assignment_round = 0;  // bumped when the leader's SyncGroup assigned a generation
  };

  Group& group_locked(const std::string& id);
  void prepare_rebalance_locked(Group& group);
  // Completes the join phase if every member has rejoined (or the deadline passed: laggards are removed).
  void maybe_complete_join_locked(Group& group, bool deadline_passed);
  void remove_member_locked(Group& group, const std::string& member_id, const char* why);
  void reaper_loop();
  static const char* state_name(State state);

  bus::Bus& bus_;
  const BrokerOptions& options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Group> groups_;
  const uint64_t member_salt_;  // random per broker start: member ids never repeat across restarts
  uint64_t member_seq_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace sf::kafka
