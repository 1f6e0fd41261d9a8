// `kube play`: Kubernetes YAML (Pods, Deployments, Services, ConfigMaps and
// PersistentVolumeClaims) read into a Compose project model (project.hpp's
// shape), which compose's up and down then carry out on this host. No I/O.
//
//   - each container of a Pod is a service: named as the pod when it has
//     one container, else POD-CONTAINER; the second and later share the
//     first's network namespace (network_mode service:FIRST), as a pod's do;
//   - a Deployment of N replicas is N such pods, NAME-1 ... NAME-N;
//   - a Service's name is a DNS alias of every pod it selects, and its ports
//     are published on the first of them (nodePort, else port, on the host);
//   - ConfigMaps feed env and envFrom; claims are named volumes.
// Unknown kinds and fields are errors naming the document, the object and
// the field; fields with no meaning on one host (nodeSelector, tolerations,
// readiness probes...) are warnings.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::compose {

inline constexpr const char* kKubeKindLabel = "io.container.kube.kind";
inline constexpr const char* kKubeNameLabel = "io.container.kube.name";

Result<nlohmann::json> kube_play_model(const std::vector<nlohmann::json>& docs, const std::string& project, std::vector<std::string>& warnings);

// "500m" -> 0.5, "2" -> 2 (CPUs); "64Mi" -> 67108864, "1G" -> 1e9 (bytes).
Result<double> cpu_quantity(const nlohmann::json& q);
Result<int64_t> memory_quantity(const nlohmann::json& q);

}  // namespace ctr::compose
