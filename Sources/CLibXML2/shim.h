#ifndef DSBUILD_CLIBXML2_SHIM_H
#define DSBUILD_CLIBXML2_SHIM_H
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#endif
