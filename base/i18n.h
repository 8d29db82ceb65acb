#pragma once
/* Messages for people in their language (docs/i18n.md): every string a person reads goes
 * through _() (gettext, domain "custody"); JSON, log entries and the journal's machine fields
 * never do.  The catalogues are po/<lang>.po, built into <localedir>/<lang>/LC_MESSAGES/
 * custody.mo; run from the build tree, the programs read the build's own copy. */

#include <libintl.h>

#define _(s) gettext(s)
/* Marks a string for the catalogue where it is defined (a table) and translated where shown. */
#define N_(s) (s)
#define NG_(one, many, n) ngettext(one, many, n)

/** Set the locale from the environment (LANG, LC_ALL, LC_MESSAGES…) and bind the "custody"
 * domain to its catalogues: $CUSTODY_LOCALEDIR when set, the build tree's when the program runs
 * from it, else the installed ones.  A locale the system lacks falls back to C.UTF-8 (English)
 * with a warning on stderr: a locale not generated is a set-up error worth saying.  Call once
 * from main() before any other thread starts (setlocale() is process-wide). */
void i18n_init(void);

/** The BCP 47 tag of the language messages are shown in ("zh-CN", "en"), for an HTML page's
 * lang attribute: the language whose catalogue answers, English when none does. */
const char *i18n_lang(void);
