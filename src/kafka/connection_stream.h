// The byte stream of one client connection: the TCP socket itself (PLAINTEXT, SASL_PLAINTEXT) or TLS over
// it (SSL, SASL_SSL; OpenSSL through Boost.Asio). Blocking, as the broker serves one thread per
// connection. Internal to kafka/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "core/status.h"

namespace sf::kafka {

// A TLS server context from PEM files (certificate chain, private key); InvalidArgument names the file
// OpenSSL refused.
Result<std::unique_ptr<boost::asio::ssl::context>> make_tls_server_context(const std::string& cert_file,
                                                                           const std::string& key_file);

class ConnectionStream {
 public:
  // `tls` nullptr: plain TCP. Both must outlive the stream.
  ConnectionStream(boost::asio::ip::tcp::socket& socket, boost::asio::ssl::context* tls);

  // The TLS server handshake (nothing for plain TCP).
  Status handshake();
  void read(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);
  void write(boost::asio::const_buffer buffer, boost::system::error_code& ec);
  // Closes both directions without waiting for the peer (no TLS close_notify exchange).
  void shutdown();

 private:
  boost::asio::ip::tcp::socket& socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
};

}  // namespace sf::kafka
