// Topic helpers shared by the handlers: lookup with optional auto-creation. Internal to kafka/.
#pragma once

#include <string_view>

#include "kafka/protocol.h"

namespace sf::kafka {

// The topic's description, creating it first (with options.default_partitions) when it is unknown and
// `may_create` and options.auto_create_topics allow. NotFound otherwise; InvalidArgument for a bad name.
Result<bus::TopicInfo> find_or_create_topic(RequestContext& ctx, std::string_view name, bool may_create);

}  // namespace sf::kafka
