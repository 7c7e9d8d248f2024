// The protocol component's facade: the messages on `queue-control` and `queue-events`, workflow types
// and names, and the market-data records with their stored documents. Include the narrower headers
// directly where compile time matters.
#pragma once

#include "protocol/control_message.h"
#include "protocol/event_message.h"
#include "protocol/naming.h"
#include "protocol/records.h"
#include "protocol/workflow_type.h"
