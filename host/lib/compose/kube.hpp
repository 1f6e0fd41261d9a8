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

// A container's config (as the daemon stores it: "image", "cmd", "env",
// "publish", "volumes", "restart", ...) as a one-service project model, so
// that kube_yaml makes its Pod or Deployment. The daemon's default runtime,
// `default_runtime`, gets no runtime class.
nlohmann::json container_model(const nlohmann::json& config, const std::string& name, const std::string& default_runtime);

// The documents, joined by "---" lines. Keys of the model that Kubernetes
// has no place for come back in `warnings`, one per service and key.
Result<std::string> kube_yaml(const nlohmann::json& model, const KubeOptions& options, std::vector<std::string>& warnings);

}  // namespace ctr::compose
