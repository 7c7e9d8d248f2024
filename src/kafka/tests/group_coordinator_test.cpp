// The group coordinator alone: MEMBER_ID_REQUIRED, join/sync, heartbeat errors, a rebalance when a member
// joins, a session timeout evicting a silent member, commit checks, leave.
#include "kafka/group_coordinator.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/protocol.h"
#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

GroupCoordinator::JoinRequest join_request(const std::string& member, bool require_known = false) {
  GroupCoordinator::JoinRequest r;
  r.group_id = "g";
  r.member_id = member;
  r.client_id = "c";
  r.session_timeout_ms = 400;
  r.rebalance_timeout_ms = 2000;
  r.protocol_type = "consumer";
  r.protocols = {{"range", "meta"}};
  r.require_known_member_id = require_known;
  return r;
}

TEST(GroupCoordinatorTest, JoinSyncRebalanceSessionTimeoutCommitChecksLeave) {
  TempDir tmp;
  bus::EmbeddedBusOptions bo;
  bo.dir = tmp.path();
  auto bus = bus::open_embedded_bus(bo);
  ASSERT_TRUE(bus.has_value());
  BrokerOptions options;
  options.group_min_session_timeout_ms = 10;
  GroupCoordinator gc(**bus, options);

  auto first = gc.join(join_request("", /*require_known=*/true));
  EXPECT_EQ(first.error, err::kMemberIdRequired);
  ASSERT_FALSE(first.member_id.empty());
  EXPECT_EQ(gc.join(join_request("made-up")).error, err::kUnknownMemberId);
  const std::string a = first.member_id;
  auto ja = gc.join(join_request(a));
  ASSERT_EQ(ja.error, err::kNone);
  EXPECT_EQ(ja.generation_id, 1);
  EXPECT_EQ(ja.leader_id, a);
  EXPECT_EQ(ja.protocol_name, "range");
  ASSERT_EQ(ja.members.size(), 1u);
  auto sa = gc.sync("g", 1, a, {{a, "assignment-a"}});
  EXPECT_EQ(sa.error, err::kNone);
  EXPECT_EQ(sa.assignment, "assignment-a");
  EXPECT_EQ(gc.heartbeat("g", 1, a), err::kNone);
  EXPECT_EQ(gc.heartbeat("g", 7, a), err::kIllegalGeneration);
  EXPECT_EQ(gc.heartbeat("g", 1, "nobody"), err::kUnknownMemberId);
  EXPECT_EQ(gc.describe("g").state, "Stable");

  // A second member joins: its join waits until the first rejoins (told by its heartbeat).
  GroupCoordinator::JoinResponse jb;
  std::thread tb([&] { jb = gc.join(join_request("")); });
  while (gc.heartbeat("g", 1, a) != err::kRebalanceInProgress) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(gc.check_commit("g", 1, a), err::kNone) << "commits of the old generation while rejoining";
  auto ja2 = gc.join(join_request(a));
  tb.join();
  ASSERT_EQ(ja2.error, err::kNone);
  ASSERT_EQ(jb.error, err::kNone);
  EXPECT_EQ(ja2.generation_id, 2);
  EXPECT_EQ(jb.generation_id, 2);
  EXPECT_EQ(ja2.leader_id, a) << "the leader stays";
  EXPECT_EQ(ja2.members.size(), 2u);
  EXPECT_TRUE(jb.members.empty()) << "only the leader gets the member list";
  const std::string b = jb.member_id;
  EXPECT_EQ(gc.check_commit("g", 2, b), err::kRebalanceInProgress) << "CompletingRebalance";
  GroupCoordinator::SyncResponse sb;
  std::thread tsb([&] { sb = gc.sync("g", 2, b, {}); });
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(gc.sync("g", 2, a, {{a, "A2"}, {b, "B2"}}).assignment, "A2");
  tsb.join();
  EXPECT_EQ(sb.error, err::kNone);
  EXPECT_EQ(sb.assignment, "B2");

  // a goes silent: after its session timeout it is removed and b is told to rejoin, alone.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int16_t hb = err::kNone;
  while ((hb = gc.heartbeat("g", 2, b)) == err::kNone && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(hb, err::kRebalanceInProgress);
  auto jb3 = gc.join(join_request(b));
  ASSERT_EQ(jb3.error, err::kNone);
  EXPECT_EQ(jb3.generation_id, 3);
  EXPECT_EQ(jb3.leader_id, b);
  EXPECT_EQ(gc.heartbeat("g", 2, a), err::kUnknownMemberId);
  EXPECT_EQ(gc.sync("g", 3, b, {{b, "B3"}}).assignment, "B3");
  EXPECT_EQ(gc.check_commit("g", -1, ""), err::kUnknownMemberId) << "no simple commits into a live group";
  EXPECT_EQ(gc.check_commit("g", 3, b), err::kNone);
  EXPECT_EQ(gc.check_commit("g", 2, b), err::kIllegalGeneration);
  EXPECT_EQ(gc.leave("g", b), err::kNone);
  EXPECT_EQ(gc.leave("g", b), err::kUnknownMemberId);
  EXPECT_EQ(gc.describe("g").state, "Empty");
  EXPECT_EQ(gc.check_commit("g", -1, ""), err::kNone) << "simple commit into an empty group";
  EXPECT_EQ(gc.join(join_request("")).error, err::kNone);
  auto bad = join_request("");
  bad.session_timeout_ms = 1;
  EXPECT_EQ(gc.join(bad).error, err::kInvalidSessionTimeout);
}

}  // namespace
}  // namespace sf::kafka
