// The real kcat (librdkafka) against the broker: produce a file of keyed messages with headers, consume it
// back byte-identical; metadata listing, CreateTopics-less auto-creation, offsets, a restart in between.
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kafka/tests/process_util.h"
#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::TestBroker;
using testing::write_file;

std::string messages(int n, int seed) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    // Keys and values with spaces, punctuation, UTF-8 and varying lengths; ':' separates key and value.
    out += fmt::format("key-{}-{}:value {} \xc3\xa9t\xc3\xa9 {{\"p\":\"{}.{}\"}} {}\n", seed, i % 17, i,
                       i * 7, seed, std::string(static_cast<std::size_t>(i % 300), 'x'));
  }
  return out;
}

TEST(KcatTest, ProduceFileConsumeBackByteIdenticalWithKeysAndHeaders) {
  TempDir tmp;
  const std::string input = messages(2000, 1);
  write_file(tmp.path() / "in.txt", input);
  std::string address;
  {
    TestBroker broker(tmp.path());
    address = broker.address();
    ASSERT_FALSE(address.empty());
    ASSERT_EQ(
        run(fmt::format("kcat -P -b {} -t trades -K: -H source=test -H note=caf\xc3\xa9 -z none < {} 2> {}",
                        address, (tmp.path() / "in.txt").string(), (tmp.path() / "p.err").string())),
        0)
        << read_file(tmp.path() / "p.err");
    auto info = broker.bus->describe_topic("trades");
    ASSERT_TRUE(info.has_value()) << "auto-created by Metadata/Produce";
    EXPECT_EQ(info->partitions[0].log_end_offset, 2000);
  }
  // Restart: a fresh broker over the same log serves what was produced.
  TestBroker broker(tmp.path());
  address = broker.address();
  ASSERT_EQ(run(fmt::format("kcat -C -b {} -t trades -o beginning -e -f '%k:%s\\n' > {} 2> {}", address,
                            (tmp.path() / "out.txt").string(), (tmp.path() / "c.err").string())),
            0)
      << read_file(tmp.path() / "c.err");
  const std::string output = read_file(tmp.path() / "out.txt");
  EXPECT_EQ(output.size(), input.size());
  EXPECT_TRUE(output == input) << "consumed bytes differ from the produced file";
  // Headers, partition and offsets as kcat sees them.
  ASSERT_EQ(run(fmt::format("kcat -C -b {} -t trades -o -3 -e -f '%p %o %h\\n' > {} 2> {}", address,
                            (tmp.path() / "h.txt").string(), (tmp.path() / "h.err").string())),
            0)
      << read_file(tmp.path() / "h.err");
  EXPECT_EQ(read_file(tmp.path() / "h.txt"),
            "0 1997 source=test,note=caf\xc3\xa9\n0 1998 source=test,note=caf\xc3\xa9\n0 1999 "
            "source=test,note=caf\xc3\xa9\n");
  // Metadata listing.
  ASSERT_EQ(run(fmt::format("kcat -L -b {} > {} 2>&1", address, (tmp.path() / "l.txt").string())), 0);
  const std::string listing = read_file(tmp.path() / "l.txt");
  EXPECT_NE(listing.find("topic \"trades\" with 1 partitions"), std::string::npos) << listing;
}

TEST(KcatTest, ManyPartitionsEveryMessageOnce) {
  TempDir tmp;
  BrokerOptions options;
  options.default_partitions = 4;
  TestBroker broker(tmp.path(), options);
  const std::string input = messages(3000, 2);
  write_file(tmp.path() / "in.txt", input);
  ASSERT_EQ(run(fmt::format("kcat -P -b {} -t multi -K: < {} 2> {}", broker.address(),
                            (tmp.path() / "in.txt").string(), (tmp.path() / "p.err").string())),
            0)
      << read_file(tmp.path() / "p.err");
  ASSERT_EQ(
      run(fmt::format("kcat -C -b {} -t multi -o beginning -e -f '%k:%s\\n' > {} 2> {}", broker.address(),
                      (tmp.path() / "out.txt").string(), (tmp.path() / "c.err").string())),
      0)
      << read_file(tmp.path() / "c.err");
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
      out.push_back(text.substr(start, nl - start));
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(lines(read_file(tmp.path() / "out.txt")), lines(input));
  auto info = broker.bus->describe_topic("multi");
  ASSERT_TRUE(info.has_value());
  int nonempty = 0;
  for (const auto& p : info->partitions) nonempty += p.log_end_offset > 0 ? 1 : 0;
  EXPECT_EQ(nonempty, 4) << "keys spread over every partition";
}

}  // namespace
}  // namespace sf::kafka
