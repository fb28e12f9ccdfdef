#ifndef DSBUILD_CLIBXML2_SHIM_H
#define DSBUILD_CLIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU, so <libxml/encoding.h> pulls in the system <unicode/ucnv.h>.
   Its `UErrorCode` clashes with the copy inside Foundation's _FoundationICU module ("… is not present
   in definition of 'enum UErrorCode'") in any Swift module that imports both. We never touch the
   ICU-only fields (they sit at the end of xmlCharEncodingHandler, which we only handle by pointer),
   so hide them from the importer. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#endif
