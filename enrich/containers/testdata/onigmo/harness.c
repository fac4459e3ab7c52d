/*
 * Runs Fluent Bit's KUBE_TAG_TO_REGEX through Onigmo the way
 * src/flb_regex.c does, over the names of testdata/fluentbit-kube-tag.txt.
 * Input: one case a line, the name in hex first (anything after a tab is
 * ignored). Output: the same line format as the testdata file.
 * regex.h is made by run.sh from Fluent Bit's kube_regex.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onigmo.h"
#include "regex.h"

static int unhex(int c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

static void hex(const unsigned char *s, int n)
{
	for (int i = 0; i < n; i++)
		printf("%02x", s[i]);
}

int main(void)
{
	static const char *groups[] = {"pod_name", "namespace_name", "container_name", "docker_id"};
	static char line[1 << 16];
	static unsigned char name[1 << 15];
	const char *p = KUBE_TAG_TO_REGEX;
	OnigRegex re;
	OnigErrorInfo ei;

	if (onig_new(&re, (const unsigned char *)p, (const unsigned char *)p + strlen(p),
		     ONIG_OPTION_DEFAULT, ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &ei) != ONIG_NORMAL)
		return 1;
	while (fgets(line, sizeof line, stdin)) {
		if (line[0] == '#')
			continue;
		int n = strcspn(line, "\t\n") / 2;
		for (int i = 0; i < n; i++)
			name[i] = unhex(line[2 * i]) * 16 + unhex(line[2 * i + 1]);
		OnigRegion *r = onig_region_new();
		hex(name, n);
		if (onig_search(re, name, name + n, name, name + n, r, ONIG_OPTION_NONE) < 0) {
			printf("\tno\n");
		} else {
			printf("\tok");
			for (int k = 0; k < 4; k++) {
				int *nums;
				const unsigned char *g = (const unsigned char *)groups[k];
				onig_name_to_group_numbers(re, g, g + strlen(groups[k]), &nums);
				printf("\t");
				hex(name + r->beg[nums[0]], r->end[nums[0]] - r->beg[nums[0]]);
			}
			printf("\n");
		}
		onig_region_free(r, 1);
	}
	return 0;
}
