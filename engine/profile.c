/*
 * profile.c - choosing a call's [profile NAME] (see profile.h).
 *
 * Matching is done once, on the initial INVITE, with the parsed numbers of
 * the call and the INVITE's headers (RFC 3261 section 7.3: header names are
 * compared case-insensitively; values here case-insensitively after trimming
 * whitespace).  Regular expressions were validated by the config loader; they
 * are compiled here with REG_EXTENDED | REG_NOSUB.
 *
 * Does NOT: look at anything after the INVITE, or at the Request-URI.
 */
#include "profile.h"

#include <stdio.h>
#include <string.h>

#include "engine_int.h"

int profile_split_header(const char *h, char *name, size_t nl, char *value, size_t vl)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h)
		return -1;
	size_t n = (size_t)(colon - h);
	while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	snprintf(name, nl, "%.*s", (int)n, h);
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	snprintf(value, vl, "%s", v);
	return 0;
}

static int rt_init(struct profile_rt *p, const struct rv_config_profile *pc, const struct rv_config *cfg, char *err,
		   size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->cfg = pc;
	p->name = pc ? pc->name : "default";
	p->retention_us = pc ? pc->retention : PROFILE_DEFAULT_RETENTION_US;
	p->key_file = pc && pc->key_file[0] ? pc->key_file : cfg->storage_key_file;
	if (!pc)
		return 0;
	if (pc->match_callee_regex[0]) {
		if (regcomp(&p->callee_re, pc->match_callee_regex, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errlen, "[profile %s] match_callee_regex does not compile", pc->name);
			return -1;
		}
		p->has_callee_re = true;
	}
	if (pc->match_caller_regex[0]) {
		if (regcomp(&p->caller_re, pc->match_caller_regex, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errlen, "[profile %s] match_caller_regex does not compile", pc->name);
			return -1;
		}
		p->has_caller_re = true;
	}
	if (pc->match_header[0] &&
	    profile_split_header(pc->match_header, p->hname, sizeof(p->hname), p->hvalue, sizeof(p->hvalue)) != 0) {
		snprintf(err, errlen, "[profile %s] match_header must be \"Name: value\"", pc->name);
		return -1;
	}
	if (pc->minor_header[0] && profile_split_header(pc->minor_header, p->minor_name, sizeof(p->minor_name),
							p->minor_value, sizeof(p->minor_value)) != 0) {
		snprintf(err, errlen, "[profile %s] minor_header must be \"Name: value\"", pc->name);
		return -1;
	}
	return 0;
}

int profiles_init(struct profiles *ps, const struct rv_config *cfg, char *err, size_t errlen)
{
	memset(ps, 0, sizeof(*ps));
	bool have_def = false;
	for (size_t i = 0; i < cfg->profile_count && i < RV_CONFIG_MAX_PROFILES; i++) {
		if (rt_init(&ps->p[ps->n], &cfg->profiles[i], cfg, err, errlen) != 0) {
			ps->n++;
			profiles_free(ps);
			return -1;
		}
		if (strcmp(cfg->profiles[i].name, "default") == 0) {
			ps->def = ps->n;
			have_def = true;
		}
		ps->n++;
	}
	if (!have_def) {
		rt_init(&ps->p[ps->n], NULL, cfg, err, errlen);
		ps->def = ps->n++;
	}
	return 0;
}

void profiles_free(struct profiles *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->p[i].has_callee_re)
			regfree(&ps->p[i].callee_re);
		if (ps->p[i].has_caller_re)
			regfree(&ps->p[i].caller_re);
		ps->p[i].has_callee_re = ps->p[i].has_caller_re = false;
	}
	ps->n = 0;
}

bool match_prefix_in(const char *num, const struct rv_config_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		size_t n = strlen(l->items[i]);
		if (n && strncmp(num, l->items[i], n) == 0)
			return true;
	}
	return false;
}

bool match_addr_in(const struct ip_addr *a, const struct rv_config_list *l)
{
	if (!a)
		return false;
	for (size_t i = 0; i < l->count; i++) {
		struct ip_addr x;
		if (ip_addr_parse(span_make(l->items[i], strlen(l->items[i])), &x) == 0 && ip_addr_eq(&x, a))
			return true;
	}
	return false;
}

static bool header_is(const struct sip_msg *m, const char *name, const char *value)
{
	struct span v;
	return m && name[0] && sip_find_header(m, name, &v) == 1 && span_eq_ci(span_trim(v), value);
}

size_t profiles_select(const struct profiles *ps, const char *caller, const char *callee, const struct ip_addr *src,
		       const struct ip_addr *dst, const struct sip_msg *m)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct profile_rt *p = &ps->p[i];
		if (i == ps->def || !p->cfg)
			continue;
		const struct rv_config_profile *c = p->cfg;
		if (match_prefix_in(callee, &c->match_callee_prefixes) || match_prefix_in(caller, &c->match_caller_prefixes) ||
		    (p->has_callee_re && regexec(&p->callee_re, callee, 0, NULL, 0) == 0) ||
		    (p->has_caller_re && regexec(&p->caller_re, caller, 0, NULL, 0) == 0) ||
		    match_addr_in(src, &c->match_trunks) || match_addr_in(dst, &c->match_trunks) || header_is(m, p->hname, p->hvalue))
			return i;
	}
	return ps->def;
}

int profiles_find(const struct profiles *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool profiles_is_minor(const struct profiles *ps, size_t i, const struct sip_msg *m)
{
	if (i >= ps->n)
		return false;
	return header_is(m, ps->p[i].minor_name, ps->p[i].minor_value);
}
