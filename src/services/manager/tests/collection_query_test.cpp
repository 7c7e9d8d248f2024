// Time- and key-bounded reads in pages over RocksDB (candles keyed by open time, trades keyed by id and
// filtered by trade_time), and CSV output with RFC 4180 quoting.
#include "services/manager/collection_query.h"

#include <gtest/gtest.h>

#include "services/job/tests/job_test_util.h"
#include "services/manager/document_format.h"

namespace sf::services {
namespace {

using protocol::Json;
using testing::TestEnv;

constexpr int64_t kStart = 1722470400000;  // 2024-08-01T00:00:00Z

class CollectionQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> candles, trades;
    for (int i = 0; i < 100; ++i) candles.push_back(testing::candle(i).second);
    // Trade ids do not follow time: 1000 + i, one every 30 s, in reverse time order.
    for (int i = 0; i < 50; ++i) {
      trades.push_back(Json{{"_key", std::to_string(1000 + i)},
                            {"symbol", "BTCUSDT"},
                            {"trade_id", 1000 + i},
                            {"price", "1.5"},
                            {"trade_time", kStart + (49 - i) * 30000}}
                           .dump());
    }
    ASSERT_TRUE(env_.store().upsert("candles", candles));
    ASSERT_TRUE(env_.store().upsert("trades", trades));
    ASSERT_TRUE(env_.store().upsert("plain", std::vector<std::string>{R"({"_key":"a","x":1})"}));
  }

  std::vector<int64_t> field_values(const DocumentPage& page, const char* field) {
    std::vector<int64_t> out;
    for (const auto& d : page.documents) out.push_back(Json::parse(d)[field].get<int64_t>());
    return out;
  }

  TestEnv env_;
};

TEST_F(CollectionQueryTest, CandleTimesAreKeyBounds) {
  DocumentQuery q;
  q.from_ms = kStart + 10 * 60000;
  q.to_ms = kStart + 20 * 60000;
  auto page = query_documents(env_.store(), "candles", q, 1000);
  ASSERT_TRUE(page) << page.status().to_string();
  auto times = field_values(*page, "open_time");
  ASSERT_EQ(times.size(), 10u);
  EXPECT_EQ(times.front(), kStart + 10 * 60000);
  EXPECT_EQ(times.back(), kStart + 19 * 60000);
  EXPECT_FALSE(page->next_after);
  EXPECT_EQ(*count_documents(env_.store(), "candles", q), 10u);
  EXPECT_EQ(*count_documents(env_.store(), "candles", {}), 100u);
  q.to_ms = q.from_ms;
  EXPECT_EQ(*count_documents(env_.store(), "candles", q), 0u);
}

TEST_F(CollectionQueryTest, PagesFollowEachOtherWithoutGapsOrRepeats) {
  DocumentQuery q;
  q.from_ms = kStart + 5 * 60000;
  std::vector<int64_t> all;
  int pages = 0;
  for (;;) {
    auto page = query_documents(env_.store(), "candles", q, 30);
    ASSERT_TRUE(page);
    ++pages;
    auto times = field_values(*page, "open_time");
    all.insert(all.end(), times.begin(), times.end());
    if (!page->next_after) break;
    q.after = page->next_after;
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(all.size(), 95u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], kStart + int64_t(i + 5) * 60000);

  DocumentQuery limited;
  limited.limit = 30;  // the client's own limit: no next page offered
  auto page = query_documents(env_.store(), "candles", limited, 30);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->documents.size(), 30u);
  EXPECT_FALSE(page->next_after);
  limited.limit = 100;  // more than a page: the page is cut and says where to go on
  page = query_documents(env_.store(), "candles", limited, 30);
  EXPECT_EQ(page->documents.size(), 30u);
  EXPECT_TRUE(page->next_after);
}

TEST_F(CollectionQueryTest, TradeTimesFilterTheTimeField) {
  DocumentQuery q;
  q.from_ms = kStart;
  q.to_ms = kStart + 5 * 60000;  // 10 trades: trade_time < start + 300 s
  auto page = query_documents(env_.store(), "trades", q, 4);
  ASSERT_TRUE(page) << page.status().to_string();
  EXPECT_EQ(page->documents.size(), 4u);
  EXPECT_TRUE(page->next_after);
  for (int64_t t : field_values(*page, "trade_time")) EXPECT_LT(t, *q.to_ms);
  EXPECT_EQ(*count_documents(env_.store(), "trades", q), 10u);
}

TEST_F(CollectionQueryTest, ErrorsNameTheProblem) {
  DocumentQuery q;
  q.from_ms = kStart;
  auto no_time = query_documents(env_.store(), "plain", q, 10);
  ASSERT_FALSE(no_time);
  EXPECT_EQ(no_time.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_time.status().message().find("no time field"), std::string::npos);
  auto missing = query_documents(env_.store(), "nope", {}, 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(count_documents(env_.store(), "nope", q).status().code(), ErrorCode::kNotFound);
  q.from_key = "1";
  EXPECT_EQ(query_documents(env_.store(), "candles", q, 10).status().code(), ErrorCode::kInvalidArgument);
}

TEST(CsvWriter, HeaderFromTheFirstDocumentAndQuotingOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field(""), "");

  CsvWriter csv;
  std::string out;
  ASSERT_TRUE(csv.add(R"({"_key":"1","price":"60000.10","n":3,"ok":true,"note":"a,b","nil":null})", out));
  ASSERT_TRUE(csv.add(R"({"price":"1.5","_key":"2","extra":"ignored","note":"x"})", out));
  EXPECT_EQ(out,
            "_key,price,n,ok,note,nil\n"
            "1,60000.10,3,true,\"a,b\",\n"
            "2,1.5,,,x,\n");
  EXPECT_FALSE(csv.add("[1]", out));
  EXPECT_FALSE(csv.add("{bad", out));
}

}  // namespace
}  // namespace sf::services
