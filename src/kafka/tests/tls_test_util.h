// A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it, made with the `openssl`
// command in a test's temporary directory (EC P-256 keys: quick to generate).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

namespace sf::kafka::testing {

struct TestCertificates {
  std::filesystem::path ca;    // PEM certificate clients trust (ssl.ca.location)
  std::filesystem::path cert;  // the server's certificate, signed by the CA
  std::filesystem::path key;   // the server's private key
};

// Empty paths (and `error` set) when openssl failed.
inline TestCertificates make_test_certificates(const std::filesystem::path& dir, std::string* error) {
  std::filesystem::create_directories(dir);
  const std::string d = dir.string();
  const std::string log = (dir / "openssl.log").string();
  // The server certificate names 127.0.0.1 and localhost: librdkafka 2.x verifies the broker's host name.
  const std::string script = fmt::format(
      "cd '{0}' && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > "
      "ext.cnf && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
      "-days 2 -subj /CN=streamforge-test-ca && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out "
      "server.csr "
      "-subj /CN=localhost && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
      "-extfile ext.cnf",
      d);
  const int rc = std::system(fmt::format("({}) > '{}' 2>&1", script, log).c_str());
  if (rc != 0) {
    if (error != nullptr) *error = fmt::format("openssl failed (status {}); see {}", rc, log);
    return {};
  }
  return TestCertificates{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
}

}  // namespace sf::kafka::testing
