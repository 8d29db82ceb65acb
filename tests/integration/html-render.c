/* html-render: test-only driver of ctl_review_html() (ctl/html.c), so that
 * tests/integration/html.sh can render sample reviews without a daemon.
 * Usage: html-render REVIEW.json PAGE.html.  Exit 0, 1 (the page could not be written),
 * 2 (usage, or the JSON does not parse). */
#include <stdio.h>

#include <jansson.h>

#include "ctl/html.h"
#include "base/err.h"

int main(int argc, char **argv)
{
	struct err_detail e = { 0 };
	json_error_t je;
	json_t *review;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: html-render REVIEW.json PAGE.html\n");
		return 2;
	}
	review = json_load_file(argv[1], 0, &je);
	if (!review) {
		fprintf(stderr, "html-render: '%s' line %d: %s\n", argv[1], je.line, je.text);
		return 2;
	}
	r = ctl_review_html(review, argv[2], &e);
	json_decref(review);
	if (r < 0) {
		fprintf(stderr, "html-render: %s: %s\n", err_name(r), e.msg);
		return 1;
	}
	return 0;
}
