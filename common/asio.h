// Boost.Asio and Beast as this project includes them. Boost 1.74's asio/awaitable.hpp uses
// std::exchange without including <utility>, which GCC 12 in C++20 mode does not pull in
// transitively; include Asio only through this header.
#pragma once

// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on
