// Plain or TLS connection streams (see connection_stream.h).
#include "kafka/connection_stream.h"

#include <fmt/format.h>

namespace sf::kafka {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

Result<std::unique_ptr<ssl::context>> make_tls_server_context(const std::string& cert_file,
                                                              const std::string& key_file) {
  if (cert_file.empty() || key_file.empty())
    return Status::invalid_argument(
        "a TLS listener needs a certificate and a private key (--tls-cert, --tls-key)");
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) return Status::invalid_argument(fmt::format("TLS certificate '{}': {}", cert_file, ec.message()));
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return Status::invalid_argument(fmt::format("TLS private key '{}': {}", key_file, ec.message()));
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    return Status::invalid_argument(
        fmt::format("TLS private key '{}' does not match the certificate '{}'", key_file, cert_file));
  return context;
}

ConnectionStream::ConnectionStream(asio::ip::tcp::socket& socket, ssl::context* tls) : socket_(socket) {
  if (tls != nullptr) tls_.emplace(socket_, *tls);
}

Status ConnectionStream::handshake() {
  if (!tls_) return Status::ok();
  boost::system::error_code ec;
  tls_->handshake(ssl::stream_base::server, ec);
  if (ec) return Status::unavailable(fmt::format("TLS handshake failed: {}", ec.message()));
  return Status::ok();
}

void ConnectionStream::read(asio::mutable_buffer buffer, boost::system::error_code& ec) {
  if (tls_) {
    asio::read(*tls_, buffer, ec);
  } else {
    asio::read(socket_, buffer, ec);
  }
}

void ConnectionStream::write(asio::const_buffer buffer, boost::system::error_code& ec) {
  if (tls_) {
    asio::write(*tls_, buffer, ec);
  } else {
    asio::write(socket_, buffer, ec);
  }
}

void ConnectionStream::shutdown() {
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace sf::kafka
