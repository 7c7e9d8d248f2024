// Artifact stores: SigV4 against AWS's documented example, the folder store, and the S3 store against a
// loopback stand-in that checks what a real S3/MinIO checks first (payload hash, signature over the
// headers it received). A real MinIO is not available here: its own acceptance is not tested.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "analytics/gnn/gnn.h"
#include "net/http_server.h"

namespace sf::analytics {
namespace {

namespace fs = std::filesystem;

S3Options example_credentials() {
  S3Options s3;
  s3.region = "us-east-1";
  s3.access_key = "AKIAIOSFODNN7EXAMPLE";
  s3.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return s3;
}

// docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
TEST(SigV4Test, MatchesAwsDocumentedGetObjectExample) {
  SigV4Request req;
  req.method = "GET";
  req.host = "examplebucket.s3.amazonaws.com";
  req.path = "/test.txt";
  req.headers = {{"range", "bytes=0-9"}};
  req.payload_sha256 = sha256_hex("");
  req.amz_date = "20130524T000000Z";
  EXPECT_EQ(req.payload_sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sigv4_authorization(req, example_credentials()),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(ArtifactStoreTest, FolderRoundTripAndErrors) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("sf-artifacts-{}", ::getpid());
  auto store = open_artifact_store(dir.string());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->put("model-1", "weights.pt", std::string("\0\1\2binary", 9)));
  auto back = (*store)->get("model-1", "weights.pt");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, std::string("\0\1\2binary", 9));
  EXPECT_EQ((*store)->get("model-1", "metadata.json").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ((*store)->put("../escape", "x", "y").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*store)->location("model-1"), (dir / "model-1").string());
  fs::remove_all(dir);
}

TEST(ArtifactStoreTest, S3UriNeedsBucketAndCredentials) {
  S3Options none;
  none.endpoint = "http://127.0.0.1:9000";
  auto missing = open_artifact_store("s3://models", none);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  S3Options s3 = example_credentials();
  s3.endpoint = "http://127.0.0.1:9000";
  EXPECT_FALSE(open_artifact_store("s3://", s3));
  auto ok = open_artifact_store("s3://models/team-a/", s3);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->location("m1"), "s3://models/team-a/m1");
}

// A loopback stand-in for an S3 bucket: PUT/GET of path-style objects, refusing a request whose payload
// hash or signature does not check out (403, as S3 does).
class FakeS3 {
 public:
  explicit FakeS3(S3Options credentials) : credentials_(std::move(credentials)) {
    server_.route("PUT", "/{path*}", [this](const net::HttpRequest& req, net::HttpResponse& res) {
      if (!authorised(req, res)) return;
      std::lock_guard lock(mu_);
      objects_[req.path] = req.body;
      res.set(200, "application/xml", "");
    });
    server_.route("GET", "/{path*}", [this](const net::HttpRequest& req, net::HttpResponse& res) {
      if (!authorised(req, res)) return;
      std::lock_guard lock(mu_);
      auto it = objects_.find(req.path);
      if (it == objects_.end())
        return res.set(404, "application/xml", "<Error><Code>NoSuchKey</Code></Error>");
      res.set(200, "application/octet-stream", it->second);
    });
    address_ = value_or_throw(server_.listen("127.0.0.1:0"));
  }
  std::string endpoint() const { return "http://" + address_; }
  size_t objects() {
    std::lock_guard lock(mu_);
    return objects_.size();
  }
  bool has(const std::string& path) {
    std::lock_guard lock(mu_);
    return objects_.count(path) > 0;
  }

 private:
  bool authorised(const net::HttpRequest& req, net::HttpResponse& res) {
    SigV4Request expected;
    expected.method = req.method;
    expected.host = std::string(req.header("Host").value_or(""));
    expected.path = req.path;
    expected.payload_sha256 = std::string(req.header("x-amz-content-sha256").value_or(""));
    expected.amz_date = std::string(req.header("x-amz-date").value_or(""));
    if (expected.payload_sha256 != sha256_hex(req.body) ||
        req.header("Authorization").value_or("") != sigv4_authorization(expected, credentials_)) {
      res.set(403, "application/xml", "<Error><Code>SignatureDoesNotMatch</Code></Error>");
      return false;
    }
    return true;
  }

  S3Options credentials_;
  net::HttpServer server_;
  std::string address_;
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
};

TEST(ArtifactStoreTest, S3PutGetThroughTheRestApi) {
  S3Options s3 = example_credentials();
  FakeS3 fake(s3);
  s3.endpoint = fake.endpoint();
  auto store = open_artifact_store("s3://models/prod", s3);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->put("m1", "weights.pt", "tensor bytes"));
  EXPECT_TRUE(fake.has("/models/prod/m1/weights.pt"));
  auto back = (*store)->get("m1", "weights.pt");
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(*back, "tensor bytes");
  EXPECT_EQ((*store)->get("m1", "metadata.json").status().code(), ErrorCode::kNotFound);

  S3Options wrong = s3;
  wrong.secret_key = "not-the-secret";
  auto bad = open_artifact_store("s3://models/prod", wrong);
  ASSERT_TRUE(bad);
  Status refused = (*bad)->put("m2", "weights.pt", "x");
  EXPECT_FALSE(refused);
  EXPECT_NE(refused.message().find("403"), std::string::npos) << refused.message();
  EXPECT_EQ(fake.objects(), 1u);
}

}  // namespace
}  // namespace sf::analytics
