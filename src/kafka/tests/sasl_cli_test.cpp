// The processes as users run them: `streamforge broker --security-protocol SASL_SSL` with a certificate and
// SASL users, and `streamforge dummy --bus kafka` configured only through its Kafka flags and
// STREAMFORGE_KAFKA_SASL_PASSWORD (SASL_SSL, SCRAM-SHA-512, a CA file): the synthetic candles go through the
// authenticated broker into the store and are verified; a wrong password fails with an authentication
// error and leaves the broker's log untouched. kcat (librdkafka) reads the topic back over SASL_SSL.
// Skipped when the streamforge executable has not been built.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kafka/tests/process_util.h"
#include "kafka/tests/test_util.h"
#include "kafka/tests/tls_test_util.h"

namespace sf::kafka {
namespace {

using testing::ListeningProcess;
using testing::read_file;
using testing::run;
using testing::TempDir;

TEST(SaslCliTest, DummyThroughASaslSslBrokerWithTheKafkaFlags) {
  if (!std::filesystem::exists(SF_STREAMFORGE_BIN)) GTEST_SKIP() << SF_STREAMFORGE_BIN << " not built";
  TempDir tmp;
  std::string error;
  const auto certs = testing::make_test_certificates(tmp.path() / "tls", &error);
  ASSERT_FALSE(certs.ca.empty()) << error;
  testing::write_file(tmp.path() / "users.txt", "# SASL users of the test broker\nsvc:s3cret:with:colons\n");
  ListeningProcess broker;
  ASSERT_TRUE(broker.start({SF_STREAMFORGE_BIN, "broker", "--listen", "127.0.0.1:0", "--data-dir",
                            (tmp.path() / "broker").string(), "--security-protocol", "SASL_SSL", "--tls-cert",
                            certs.cert.string(), "--tls-key", certs.key.string(), "--sasl-users-file",
                            (tmp.path() / "users.txt").string(), "--default-partitions", "2"}));

  const std::string kafka_flags = fmt::format(
      "--bus kafka --kafka-bootstrap {} --kafka-security-protocol sasl_ssl --kafka-sasl-mechanism "
      "SCRAM-SHA-512 "
      "--kafka-sasl-username svc --kafka-ca-file {}",
      broker.address, certs.ca.string());
  const std::string out = (tmp.path() / "dummy.out").string();
  ASSERT_EQ(run(fmt::format(
                "STREAMFORGE_KAFKA_SASL_PASSWORD='s3cret:with:colons' timeout 120 {} dummy --data-dir {} "
                "--records 3000 --batch 500 --topic secure-candles {} > {} 2>&1",
                SF_STREAMFORGE_BIN, (tmp.path() / "job").string(), kafka_flags, out)),
            0)
      << read_file(out);
  EXPECT_NE(read_file(out).find("verification PASSED"), std::string::npos) << read_file(out);

  // kcat over the same listener sees the records the dummy produced.
  const std::string kcat_security = fmt::format(
      "-X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=svc "
      "-X sasl.password='s3cret:with:colons' -X ssl.ca.location={}",
      certs.ca.string());
  ASSERT_EQ(
      run(fmt::format("timeout 60 kcat -C -b {} {} -t secure-candles -o beginning -e -f '%o\\n' > {} 2> {}",
                      broker.address, kcat_security, (tmp.path() / "kcat.out").string(),
                      (tmp.path() / "kcat.err").string())),
      0)
      << read_file(tmp.path() / "kcat.err");
  const std::string offsets = read_file(tmp.path() / "kcat.out");
  EXPECT_EQ(std::count(offsets.begin(), offsets.end(), '\n'), 3000);

  // A wrong password: the dummy fails with an authentication error and nothing more reaches the log.
  const std::string bad = (tmp.path() / "bad.out").string();
  EXPECT_NE(run(fmt::format(
                "STREAMFORGE_KAFKA_SASL_PASSWORD=wrong timeout 120 {} dummy --data-dir {} --records 100 "
                "--topic other-candles {} > {} 2>&1",
                SF_STREAMFORGE_BIN, (tmp.path() / "bad").string(), kafka_flags, bad)),
            0);
  EXPECT_NE(read_file(bad).find("uthentication"), std::string::npos) << read_file(bad);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "broker" / "bus" / "topics" / "other-candles"));
  EXPECT_EQ(broker.stop(), 0);
}

// (A SASL_SSL listener without a certificate is refused by Broker::start: sasl_broker_test.cpp.)
TEST(SaslCliTest, BrokerRefusesIncompleteSecurityFlags) {
  if (!std::filesystem::exists(SF_STREAMFORGE_BIN)) GTEST_SKIP() << SF_STREAMFORGE_BIN << " not built";
  TempDir tmp;
  const std::string bin = SF_STREAMFORGE_BIN;
  const std::string err = (tmp.path() / "err.txt").string();
  const std::string base =
      fmt::format("{} broker --listen 127.0.0.1:0 --data-dir {}", bin, tmp.path().string());
  EXPECT_NE(run(fmt::format("{} --security-protocol SASL_PLAINTEXT > /dev/null 2> {}", base, err)), 0);
  EXPECT_NE(read_file(err).find("--sasl-user"), std::string::npos) << read_file(err);
  EXPECT_NE(run(fmt::format("{} --security-protocol TLS > /dev/null 2> {}", base, err)), 0);
  EXPECT_NE(read_file(err).find("TLS"), std::string::npos) << read_file(err);
}

}  // namespace
}  // namespace sf::kafka
