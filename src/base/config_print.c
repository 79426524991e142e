// SPDX-License-Identifier: GPL-2.0
/*
 * config_print.c - the option table written out: --help, the man page text, the options
 * a running mount shows (and remount compares).
 */
#include "config_priv.h"

void config_print_help(FILE *out)
{
	size_t i;

	fprintf(out, "Mount options (-o opt[,opt...], also usable in /etc/fstab):\n");
	for (i = 0; i < config_nopts; i++) {
		const struct opt_desc *d = &config_opts[i];
		const char *arg = d->kind == OPT_SECONDS ? "=SEC" : d->kind == OPT_UINT ? "=N" :
				  d->kind == OPT_ONOFF ? "=on|off" : d->kind == OPT_AUTO ? "=on|off|auto" :
				  d->kind == OPT_PATH ? "=PATH" :
				  d->kind == OPT_STRING ? "=VALUE" : d->kind == OPT_SIZE ? "=SIZE" :
				  d->kind == OPT_PROFILE ? "=NAME" : "";
		char name[48];

		snprintf(name, sizeof(name), "%s%s", d->name, arg);
		if (d->help)
			fprintf(out, "    %-24s %s\n", name, d->help);
		else
			fprintf(out, "    %-24s\n", name);
	}
	fprintf(out, "    %-24s %s\n", "x-*,comment=*", "ignored (for mount(8) and systemd)");
}

/* Rows a remount cannot change and the daemon records: every daemon option but ro/rw. */
static int row_is_daemon_opt(const struct opt_desc *d)
{
	return d->kind != OPT_KERNEL && d->kind != OPT_IGNORE && d->off != offsetof(struct config,
										      read_only);
}

/* The value of row @d in @cfg as -o would give it ("" for an unset flag or empty string). */
static void row_value(const struct config *cfg, const struct opt_desc *d, char *buf, size_t size)
{
	const void *field = (const char *)cfg + d->off;
	static const char *const profiles[] = { "default", "dataset", "shared" };

	switch (d->kind) {
	case OPT_FLAG:
		snprintf(buf, size, "%s", *(const int *)field == d->val ? "1" : "");
		break;
	case OPT_SECONDS:
		snprintf(buf, size, "%.17g", *(const double *)field);
		break;
	case OPT_UINT:
		snprintf(buf, size, "%u", *(const unsigned int *)field);
		break;
	case OPT_ONOFF:
		snprintf(buf, size, "%s", *(const int *)field ? "on" : "off");
		break;
	case OPT_PROFILE:
		snprintf(buf, size, "%s", profiles[*(const enum profile *)field]);
		break;
	case OPT_PATH:
	case OPT_STRING:
		snprintf(buf, size, "%s", (const char *)field);
		break;
	case OPT_SIZE:
		snprintf(buf, size, "%llu", *(const unsigned long long *)field);
		break;
	default:
		buf[0] = '\0';
	}
}

int config_format_opts(const struct config *cfg, char *buf, size_t size)
{
	size_t i, len = 0;
	char val[PATH_MAX];
	int n;

	buf[0] = '\0';
	for (i = 0; i < config_nopts; i++) {
		const struct opt_desc *d = &config_opts[i];

		if (!row_is_daemon_opt(d))
			continue;
		row_value(cfg, d, val, sizeof(val));
		if (!val[0] || strchr(val, ','))
			continue; /* unset: the default again when parsed */
		if (d->kind == OPT_FLAG)
			n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", d->name);
		else
			n = snprintf(buf + len, size - len, "%s%s=%s", len ? "," : "", d->name, val);
		if (n < 0 || (size_t)n >= size - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}

int config_remount_check(const struct config *want, const char *running)
{
	struct config now;
	char a[PATH_MAX], b[PATH_MAX];
	size_t i;

	config_init(&now);
	if (config_parse_opts(&now, running))
		return -EINVAL;
	for (i = 0; i < config_nopts; i++) {
		const struct opt_desc *d = &config_opts[i];

		if (!row_is_daemon_opt(d) || !(want->explicit_opts & (1ULL << i)))
			continue;
		row_value(want, d, a, sizeof(a));
		row_value(&now, d, b, sizeof(b));
		if (strcmp(a, b)) {
			pr_err("option '%s' cannot be changed by remount (the mount runs with "
			       "'%s'); unmount and mount again", d->name,
			       d->kind == OPT_FLAG ? (b[0] ? d->name : "not set") : b);
			return -EINVAL;
		}
	}
	return 0;
}

void config_man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static const char *opt_arg(const struct opt_desc *d)
{
	return d->kind == OPT_SECONDS ? "=SEC" : d->kind == OPT_UINT ? "=N" :
	       d->kind == OPT_ONOFF ? "=on|off" : d->kind == OPT_PATH ? "=PATH" :
	       d->kind == OPT_STRING ? "=VALUE" : d->kind == OPT_SIZE ? "=SIZE" :
	       d->kind == OPT_PROFILE ? "=NAME" : "";
}

void config_print_man(FILE *out)
{
	size_t i, n = config_nopts;

	for (i = 0; i < n; i++) {
		const struct opt_desc *d = &config_opts[i];
		size_t hl = d->help ? strlen(d->help) : 0;

		fprintf(out, ".TP\n.B ");
		config_man_text(out, d->name);
		config_man_text(out, opt_arg(d));
		/* a row whose help ends in ':' heads the rows without help after it */
		if (hl && d->help[hl - 1] == ':') {
			while (i + 1 < n && !config_opts[i + 1].help) {
				fprintf(out, ", ");
				config_man_text(out, config_opts[++i].name);
			}
			fputc('\n', out);
			fprintf(out, "%.*s.\n", (int)hl - 1, d->help);
			continue;
		}
		fputc('\n', out);
		if (d->help) {
			config_man_text(out, d->help);
			fputs(".\n", out);
		}
	}
	fprintf(out, ".TP\n.B x\\-*, comment=*\nignored (for mount(8) and systemd).\n");
}

void config_print_profiles_man(FILE *out)
{
	static const char *const what[] = {
		[PROFILE_DEFAULT] = "data that may change at any time, from anywhere",
		[PROFILE_DATASET] = "read-mostly data such as a training set: the kernel keeps "
				    "every name, attribute and page until bpfuse invalidates it "
				    "(changes made in the source are pushed into the kernel)",
		[PROFILE_SHARED] = "data other clients change: the kernel trusts its caches "
				   "briefly",
	};
	static const char *const names[] = { "default", "dataset", "shared" };
	struct config c[3];
	size_t i, n = config_nopts;
	char a[PATH_MAX], b[PATH_MAX];
	int p, q, first;

	for (p = 0; p < 3; p++) {
		config_init(&c[p]);
		c[p].profile = (enum profile)p;
		config_finish(&c[p]);
	}
	for (p = 0; p < 3; p++) {
		fprintf(out, ".TP\n.B profile=%s\n", names[p]);
		config_man_text(out, what[p]);
		fprintf(out, ":");
		first = 1;
		/* the rows the profiles set differently, with this profile's values */
		for (i = 0; i < n; i++) {
			const struct opt_desc *d = &config_opts[i];
			int differs = 0;

			if (!row_is_daemon_opt(d) || d->kind == OPT_PROFILE)
				continue;
			row_value(&c[p], d, a, sizeof(a));
			for (q = 0; q < 3; q++) {
				row_value(&c[q], d, b, sizeof(b));
				differs |= strcmp(a, b) != 0;
			}
			if (!differs)
				continue;
			fprintf(out, "%s\n.BR %s=%s", first ? "" : ",", d->name, a);
			first = 0;
		}
		fprintf(out, ".\n");
	}
	fprintf(out, ".PP\nOptions given explicitly win over the profile's.\n");
}
