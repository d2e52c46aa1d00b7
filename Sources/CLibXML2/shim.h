// libxml2's streaming reader (xmlTextReader), for `canaryctl import --from apple-health`.
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, whose headers clash with the ICU Foundation carries; nothing used
// here touches the encoding handlers that the ICU parts belong to.
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
