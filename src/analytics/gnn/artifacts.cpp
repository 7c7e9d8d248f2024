// Model artifact stores: a local folder, and an S3-compatible bucket through the S3 REST API (PutObject,
// GetObject) signed with AWS Signature Version 4 (HMAC-SHA256 from OpenSSL).
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analytics/gnn/gnn.h"
#include "net/http_client.h"
#include "net/url.h"

namespace sf::analytics {
namespace {

namespace fs = std::filesystem;

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

// Model ids and file names become object keys and file names: keep them to a safe alphabet.
Status check_name(std::string_view what, std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 200 && name != "." && name != ".." &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                  });
  if (ok) return Status::ok();
  return Status::invalid_argument(
      fmt::format("{} '{}' must be 1..200 characters of letters, digits, '-', '_' and '.'", what, name));
}

class FolderArtifactStore final : public ArtifactStore {
 public:
  explicit FolderArtifactStore(fs::path root) : root_(std::move(root)) {}

  Status put(std::string_view model_id, std::string_view name, std::string_view bytes) override {
    SF_RETURN_IF_ERROR(check_name("model id", model_id));
    SF_RETURN_IF_ERROR(check_name("artifact name", name));
    const fs::path dir = root_ / std::string(model_id);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    // Write then rename: a reader never sees half a model.
    const fs::path final_path = dir / std::string(name);
    const fs::path temp = dir / (std::string(name) + ".tmp");
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) return Status::io_error(fmt::format("cannot write {}", temp.string()));
    }
    fs::rename(temp, final_path, ec);
    if (ec) return Status::io_error(fmt::format("cannot rename {}: {}", temp.string(), ec.message()));
    return Status::ok();
  }

  Result<std::string> get(std::string_view model_id, std::string_view name) override {
    SF_RETURN_IF_ERROR(check_name("model id", model_id));
    SF_RETURN_IF_ERROR(check_name("artifact name", name));
    const fs::path path = root_ / std::string(model_id) / std::string(name);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Status::not_found(fmt::format("model '{}' has no {} in {}", model_id, name, root_.string()));
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return std::move(bytes).str();
  }

  std::string location(std::string_view model_id) const override {
    return (root_ / std::string(model_id)).string();
  }

 private:
  fs::path root_;
};

std::string amz_date_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
  return buf;
}

class S3ArtifactStore final : public ArtifactStore {
 public:
  S3ArtifactStore(net::Url endpoint, std::string bucket, std::string prefix, S3Options options)
      : endpoint_(std::move(endpoint)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        options_(std::move(options)) {}

  Status put(std::string_view model_id, std::string_view name, std::string_view bytes) override {
    auto response = send("PUT", model_id, name, std::string(bytes));
    if (!response) return response.status();
    if (response->status != 200) return http_error("PUT", model_id, name, *response);
    return Status::ok();
  }

  Result<std::string> get(std::string_view model_id, std::string_view name) override {
    auto response = send("GET", model_id, name, {});
    if (!response) return response.status();
    if (response->status == 404) {
      return Status::not_found(fmt::format("model '{}' has no {} in {}", model_id, name, location(model_id)));
    }
    if (response->status != 200) return http_error("GET", model_id, name, *response);
    return std::move(response->body);
  }

  std::string location(std::string_view model_id) const override {
    return fmt::format("s3://{}/{}{}", bucket_, prefix_.empty() ? "" : prefix_ + "/", model_id);
  }

 private:
  std::string object_path(std::string_view model_id, std::string_view name) const {
    return fmt::format("/{}/{}{}/{}", bucket_, prefix_.empty() ? "" : prefix_ + "/", model_id, name);
  }

  Result<net::HttpResponse> send(std::string_view method, std::string_view model_id, std::string_view name,
                                 std::string body) {
    SF_RETURN_IF_ERROR(check_name("model id", model_id));
    SF_RETURN_IF_ERROR(check_name("artifact name", name));
    SigV4Request req;
    req.method = std::string(method);
    const uint16_t default_port = endpoint_.is_tls() ? 443 : 80;
    req.host = endpoint_.port == default_port ? endpoint_.host : endpoint_.host_port();
    req.path = object_path(model_id, name);
    req.payload_sha256 = sha256_hex(body);
    req.amz_date = amz_date_now();
    net::Headers headers;
    headers.set("x-amz-date", req.amz_date);
    headers.set("x-amz-content-sha256", req.payload_sha256);
    headers.set("Authorization", sigv4_authorization(req, options_));
    if (method == "PUT") headers.set("Content-Type", "application/octet-stream");
    if (!client_) {
      net::HttpClientOptions http;
      http.request_timeout = std::chrono::seconds(60);
      client_ = std::make_unique<net::HttpClient>(endpoint_, http);
    }
    return client_->request(method, req.path, std::move(body), headers);
  }

  Status http_error(std::string_view method, std::string_view model_id, std::string_view name,
                    const net::HttpResponse& response) const {
    return Status::unavailable(fmt::format("S3 {} {}/{} answered {}: {}", method, location(model_id), name,
                                           response.status, response.body.substr(0, 300)));
  }

  net::Url endpoint_;
  std::string bucket_;
  std::string prefix_;
  S3Options options_;
  std::unique_ptr<net::HttpClient> client_;
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &size, EVP_sha256(), nullptr);
  return hex(out, size);
}

std::string sigv4_authorization(const SigV4Request& request, const S3Options& s3) {
  // Canonical headers: lower-case names, sorted, values trimmed (docs.aws.amazon.com, "Create a canonical
  // request for Signature Version 4").
  std::vector<std::pair<std::string, std::string>> headers = request.headers;
  headers.emplace_back("host", request.host);
  headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  headers.emplace_back("x-amz-date", request.amz_date);
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  const std::string canonical =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, request.path, request.query, canonical_headers,
                  signed_headers, request.payload_sha256);
  const std::string date = request.amz_date.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/s3/aws4_request", date, s3.region);
  const std::string to_sign =
      fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", request.amz_date, scope, sha256_hex(canonical));
  std::string key = hmac_sha256("AWS4" + s3.secret_key, date);
  key = hmac_sha256(key, s3.region);
  key = hmac_sha256(key, "s3");
  key = hmac_sha256(key, "aws4_request");
  const std::string signature = hmac_sha256(key, to_sign);
  return fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}", s3.access_key, scope,
                     signed_headers,
                     hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size()));
}

S3Options S3Options::from_environment() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  S3Options o;
  if (auto region = env("AWS_REGION"); !region.empty()) o.region = region;
  o.endpoint = env("STREAMFORGE_S3_ENDPOINT");
  if (o.endpoint.empty()) o.endpoint = fmt::format("https://s3.{}.amazonaws.com", o.region);
  o.access_key = env("AWS_ACCESS_KEY_ID");
  o.secret_key = env("AWS_SECRET_ACCESS_KEY");
  return o;
}

Result<std::unique_ptr<ArtifactStore>> open_artifact_store(std::string_view location, const S3Options& s3) {
  constexpr std::string_view kS3 = "s3://";
  if (location.substr(0, kS3.size()) != kS3) {
    if (location.empty()) return Status::invalid_argument("artifact store: empty location");
    return std::unique_ptr<ArtifactStore>(
        std::make_unique<FolderArtifactStore>(fs::path(std::string(location))));
  }
  std::string_view rest = location.substr(kS3.size());
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const size_t slash = rest.find('/');
  const std::string bucket(rest.substr(0, slash));
  const std::string prefix(slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1));
  if (bucket.empty())
    return Status::invalid_argument(fmt::format("artifact store '{}': no bucket", location));
  if (s3.access_key.empty() || s3.secret_key.empty()) {
    return Status::invalid_argument(
        fmt::format("artifact store '{}': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                    "STREAMFORGE_S3_ENDPOINT for "
                    "MinIO)",
                    location));
  }
  auto endpoint = net::parse_url(s3.endpoint);
  if (!endpoint) {
    return Status::invalid_argument(fmt::format("STREAMFORGE_S3_ENDPOINT: {}", endpoint.status().message()));
  }
  return std::unique_ptr<ArtifactStore>(
      std::make_unique<S3ArtifactStore>(std::move(endpoint).value(), bucket, prefix, s3));
}

}  // namespace sf::analytics
