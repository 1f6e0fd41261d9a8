// image-oci: ABI wiring. The registry client, content store and unpacker
// arrive with the image issue; until then the plugin loads and negotiates,
// and every operation answers CTR_E_UNIMPLEMENTED with a message saying so.
#include <ctr/sdk/plugin.hpp>

namespace {

class ImageOci : public ctr::sdk::Image {
public:
    using Image::Image;
};

}  // namespace

CTR_SDK_PLUGIN(ImageOci, "image-oci", "0.1.0")
