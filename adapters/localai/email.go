package localai

import (
	"fmt"
	"slices"
	"strings"

	"github.com/repurpose/repurpose/ports"
)

// maxSubjectRunes keeps subjects short enough for an inbox list.
const maxSubjectRunes = 80

// defaultCTA closes the last email when the request names no call to
// action.
const defaultCTA = "Reply to this email with your questions or thoughts; we read every message."

// emailSequence writes email_count emails. The document is cut into as
// many topic segments; each email carries two to four of its segment's
// strongest sentences under a subject naming the segment's topic, a
// greeting and sign-off in the requested tone, a pointer to the next email,
// and the call to action (in every email when one is given, else a reply
// invitation in the last).
func emailSequence(d *doc, p params) output {
	n := p.integer("email_count")
	tn := toneFor(p.str("tone"), "professional")
	cta := cleanText(p.str("call_to_action"))
	seed := seedOf(p.str("tone"), d.sents[0].text)

	segs := d.segment(d.all(), n)
	used := make([]bool, len(d.sents))
	avoid := map[string]bool{}
	picks := make([][]int, n)
	topics := make([]string, n)
	weight := func(i int) float64 {
		if dependent(&d.sents[i]) {
			return d.sents[i].score * 0.6
		}
		return d.sents[i].score
	}
	for e := range n {
		var pool []int
		if e < len(segs) {
			pool = segs[e]
		}
		per := 3
		if len(pool) >= 8 {
			per = 4
		}
		ids := d.pick(pool, per, used, nil, weight)
		if len(ids) < 2 {
			ids = append(ids, d.pick(d.all(), 2-len(ids), used, ids, weight)...)
		}
		if len(ids) < 2 { // a short document: repeat, but never within one email
			own := make([]bool, len(d.sents))
			for _, i := range ids {
				own[i] = true
			}
			ids = append(ids, d.pick(d.all(), 2-len(ids), own, ids, nil)...)
		}
		for _, i := range ids {
			used[i] = true
		}
		slices.Sort(ids)
		picks[e] = ids
		topics[e] = d.label(ids, avoid)
		if topics[e] == "" {
			topics[e] = d.topic(ids[0])
		}
	}

	parts := make([]ports.AIPart, n)
	seen := map[string]bool{}
	for e := range n {
		subject := trimToRunes(fill(choose(tn.subjects, seed, e), topics[e]), maxSubjectRunes)
		subject = capitalize(subject)
		if seen[strings.ToLower(subject)] {
			subject = trimToRunes(subject, maxSubjectRunes-10) + fmt.Sprintf(" (part %d)", e+1)
		}
		seen[strings.ToLower(subject)] = true

		var opener string
		switch {
		case n == 1:
			opener = "Here's a short note on " + topics[e] + "."
		case e == 0 && strings.EqualFold(topics[e], d.mainTopic()):
			opener = fmt.Sprintf("This is the first of %d short emails on %s.", n, topics[e])
		case e == 0:
			opener = fmt.Sprintf("This is the first of %d short emails on %s. Today: %s.", n, d.mainTopic(), topics[e])
		case e == n-1:
			opener = "This is the last email in the series, on " + topics[e] + "."
		default:
			opener = fmt.Sprintf("Email %d of %d: %s.", e+1, n, topics[e])
		}
		var next, action string
		if e < n-1 {
			next = "In the next email: " + topics[e+1] + "."
		}
		switch {
		case cta != "":
			action = cta
		case e == n-1:
			action = defaultCTA
		}
		body := joinNonEmpty("\n\n", tn.greeting, opener, d.paragraphs(picks[e]), next, action, tn.signOff+"\nThe team")
		parts[e] = ports.AIPart{Title: subject, Body: body}
	}
	text := joinParts("", parts, func(i int, p ports.AIPart) string {
		return fmt.Sprintf("Email %d: %s", i+1, p.Title)
	})
	return output{text: text, parts: parts}
}
