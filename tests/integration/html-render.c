/* html-render: test-only driver of the records (ctl/record.h), so that tests/integration/html.sh
 * and pdf.sh can render sample reviews and histories without a daemon.
 * Usage: html-render [--pdf] [--history] [--tz ZONE] [--origin O --size N --root R
 *                    --key-name K --key-id ID [--cosignatures N] | --why TEXT] IN.json OUT
 * The language follows the locale (LANG), as custodyctl's does; with --root the checkpoint
 * counts as checked, else it is shown as not checked (--why says why).
 * Exit 0, 1 (the record could not be written), 2 (usage, a bad zone, the JSON does not parse). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "base/err.h"
#include "base/i18n.h"
#include "ctl/page.h"
#include "ctl/record.h"
#include "ctl/show.h"
#include "ingest/tz.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pdf", no_argument, NULL, 'p' },
		{ "history", no_argument, NULL, 'H' },
		{ "tz", required_argument, NULL, 'z' },
		{ "origin", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "key-name", required_argument, NULL, 'k' },
		{ "key-id", required_argument, NULL, 'i' },
		{ "cosignatures", required_argument, NULL, 'c' },
		{ "why", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_page_ctx ctx = { .why = "no verifier key was given" };
	struct err_detail e = { 0 };
	enum ctl_page_format fmt = CTL_PAGE_HTML;
	const char *zone = "UTC";
	struct ing_tz *tz = NULL;
	int history = 0, o, r;
	json_error_t je;
	json_t *ans;

	i18n_init();
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			fmt = CTL_PAGE_PDF;
			break;
		case 'H':
			history = 1;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'o':
			ctx.origin = optarg;
			break;
		case 's':
			ctx.size = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			ctx.root = optarg;
			ctx.checked = true;
			break;
		case 'k':
			ctx.key_name = optarg;
			break;
		case 'i':
			ctx.key_id = optarg;
			break;
		case 'c':
			ctx.cosignatures = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			ctx.why = optarg;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr,
			"usage: html-render [--pdf] [--history] [--tz ZONE] [--origin O "
			"--size N --root R --key-name K --key-id ID] [--why TEXT] IN.json OUT\n");
		return 2;
	}
	if (show_zone_load(zone, &tz, &e) < 0) {
		fprintf(stderr, "html-render: zone '%s': %s\n", zone, e.msg);
		return 2;
	}
	ctx.tz = tz;
	ans = json_load_file(argv[optind], 0, &je);
	if (!ans) {
		fprintf(stderr, "html-render: '%s' line %d: %s\n", argv[optind], je.line, je.text);
		ing_tz_free(tz);
		return 2;
	}
	r = history ? ctl_history_page(ans, &ctx, fmt, argv[optind + 1], &e)
		    : ctl_review_page(ans, &ctx, fmt, argv[optind + 1], &e);
	json_decref(ans);
	ing_tz_free(tz);
	if (r < 0) {
		fprintf(stderr, "html-render: %s: %s\n", err_name(r), e.msg);
		return 1;
	}
	return 0;
}
