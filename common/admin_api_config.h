// The `admin:` section of the mirror's and both captures' configuration files: where the
// command's admin HTTP API (/healthz, /metrics) listens. One type and one reader, so the three
// files spell and check it alike; each service passes its own default port (the mirror 9700, the
// Postgres capture 9701, the Cassandra capture 9702), so all three can run on one host.
//
//   admin:
//     bind: 127.0.0.1    # loopback unless told otherwise
//     port: 9700         # 0 picks a free port, -1 disables the API
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/config_reader.h"

namespace rm::common {

struct AdminApiConfig {
  // Address to bind. Default: 127.0.0.1
  std::string bind = "127.0.0.1";
  // Port; 0 picks a free one, -1 disables the API. Default: the service's, given where the
  // config holds it (`AdminApiConfig admin{.port = 9700};`)
  int port = -1;

  // Reads `node` (the section at `path`, "admin"), when present: a map of `bind` and `port`.
  void Read(YamlFieldReader& r, const YAML::Node& node, const std::string& path) {
    if (!r.IsMap(node, path)) return;
    r.CheckKeys(node, path, {"bind", "port"});
    r.Get(node, path, "bind", bind);
    r.Get(node, path, "port", port);
  }

  // Problems with the values, the section being at `path`.
  std::vector<ConfigProblem> Validate(const std::string& path) const {
    std::vector<ConfigProblem> p;
    if (bind.empty()) p.push_back({path + ".bind", "must not be empty"});
    if (port < -1 || port > 65535) {
      p.push_back(
          {path + ".port",
           fmt::format("{} is not -1 (off), 0 (any free port) or a port up to 65535", port)});
    }
    return p;
  }
};

}  // namespace rm::common
