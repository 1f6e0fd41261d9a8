// Kubernetes YAML from a Compose project's model (project.hpp), for
// `container kube generate --compose FILE`: per service a Deployment (a Pod
// when its restart policy is "no" or "on-failure", which a Deployment
// cannot say), a ConfigMap of its environment, a Service for its ports;
// per named volume a PersistentVolumeClaim. No I/O: text in, text out.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::compose {

struct KubeOptions {
    std::string volume_size = "1Gi";  // each claim's request
};

// The documents, joined by "---" lines. Keys of the model that Kubernetes
// has no place for come back in `warnings`, one per service and key.
Result<std::string> kube_yaml(const nlohmann::json& model, const KubeOptions& options, std::vector<std::string>& warnings);

}  // namespace ctr::compose
