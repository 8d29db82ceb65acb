/* docs/i18n.md */
#include "base/i18n.h"

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *localedir(void)
{
	static char exe[4096];
	const char *env = getenv("CUSTODY_LOCALEDIR");
	ssize_t n;

	if (env && *env)
		return env;
	/* Uninstalled: a program built here reads the catalogues built beside it, so that
	 * scripts/start and the tests show what will be installed. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		size_t root = strlen(CUSTODY_BUILD_ROOT);

		exe[n] = '\0';
		if (!strncmp(exe, CUSTODY_BUILD_ROOT, root) && exe[root] == '/')
			return CUSTODY_BUILD_ROOT "/po/locale";
	}
	return CUSTODY_LOCALEDIR;
}

void i18n_init(void)
{
	if (!setlocale(LC_ALL, "")) {
		const char *want = getenv("LC_ALL");

		if (!want || !*want)
			want = getenv("LC_MESSAGES");
		if (!want || !*want)
			want = getenv("LANG");
		fprintf(stderr,
			"warning: the locale '%s' is not installed on this system (locale -a lists "
			"those that are; Debian: dpkg-reconfigure locales); messages stay in "
			"English\n",
			want ? want : "?");
		if (!setlocale(LC_ALL, "C.UTF-8"))
			setlocale(LC_ALL, "C");
	}
	bindtextdomain("custody", localedir());
	bind_textdomain_codeset("custody", "UTF-8");
	textdomain("custody");
}

const char *i18n_lang(void)
{
	/* Translators: the BCP 47 tag of this language, for the lang attribute of a page
	 * ("zh-CN"); "en" in English. */
	const char *tag = _("lang-tag:en");

	return strncmp(tag, "lang-tag:", 9) ? tag : tag + 9;
}
