"""A year of residents' concerns for the demo street (issue #17): about 3,000, at households' doors, with
realistic categories, states, overdue, reworked, reopened and escalated cases, claimed wishes and a history for
each. Three set-based statements (concerns, their history, their deadlines), repeatable with the same seed."""

from __future__ import annotations

from django.db import connection, transaction

from gridmap.models.concerns import Concern
from gridmap.services.concerns.stage_times import fill_stage_times

# Why SQL: thousands of rows with a history each, drawn from the households in one pass; setseed makes
# random() repeat, and the households are read in id order.
_CONCERNS = """
INSERT INTO gridmap_concern (uid, category_id, urgency, location, address, description, source, household_id,
                             reporter_id, grid_id, community_id, state, version, handler_level, handler_name,
                             stage_started_at, due_at, rework, late_steps, reopened, escalated, feedback, created_at,
                             claimed_by_id, service_hours, beneficiaries)
SELECT md5(h.id::text || 'concern')::uuid, k.id, CASE WHEN r.u < 0.12 THEN 'urgent' ELSE 'normal' END,
       ST_Translate(h.location, (r.v - 0.5) * 0.0004, (r.w - 0.5) * 0.0004), h.address,
       (k.words)[1 + floor(r.w * array_length(k.words, 1))::int],
       (ARRAY['patrol', 'patrol', 'patrol', 'phone', 'walk_in', 'qr_form', 'hotline_12345'])[1 + floor(r.v * 7)::int],
       h.id, NULL, h.grid_id, h.community_id, r.state, 2,
       CASE WHEN r.state IN ('reported', 'accepted', 'rejected', 'void') THEN '' ELSE 'grid' END, '',
       now(), NULL,
       CASE WHEN r.state NOT IN ('closed', 'verified', 'handled', 'reopened') THEN 0  -- reworked: handled before
            WHEN r.c * 97 - floor(r.c * 97) < 0.08 THEN 1 WHEN r.c * 97 - floor(r.c * 97) < 0.10 THEN 2 ELSE 0 END,
       CASE WHEN r.state = 'closed' AND r.v < 0.15 THEN 1 ELSE 0 END,
       CASE WHEN r.state = 'reopened' THEN 1 ELSE 0 END, FALSE,
       CASE WHEN r.state <> 'closed' THEN '' WHEN r.w < 0.75 THEN 'satisfied' WHEN r.w < 0.93 THEN 'basic'
            ELSE 'unsatisfied' END,
       now() - r.age * CASE WHEN r.state IN ('closed', 'rejected', 'void') THEN interval '365 days'
                            ELSE interval '6 days' END,  -- open cases are mostly recent
       CASE WHEN k.is_wish AND r.state IN ('dispatched', 'handled', 'verified', 'closed')
            THEN (SELECT m.id FROM gridmap_member m WHERE m.community_id = h.community_id ORDER BY m.id
                   OFFSET floor(r.v * 5)::int LIMIT 1) END,
       CASE WHEN k.is_wish AND r.state IN ('handled', 'verified', 'closed') THEN round((1 + r.v * 6)::numeric, 1) END,
       CASE WHEN k.is_wish AND r.state IN ('handled', 'verified', 'closed') THEN 1 + floor(r.w * 4)::int END
  FROM (SELECT h.*, row_number() OVER (ORDER BY h.id) AS n FROM gridmap_household h WHERE h.grid_id IS NOT NULL) h
  -- h.n in every draw: an uncorrelated sub-select may be planned once for all rows (the same draw for each)
  CROSS JOIN LATERAL (SELECT random() + 0 * h.n AS u, random() + 0 * h.n AS v, random() + 0 * h.n AS w,
                             random() + 0 * h.n AS age, random() + 0 * h.n AS c, random() + 0 * h.n AS s) r0
  CROSS JOIN LATERAL (SELECT r0.*, CASE WHEN r0.s < 0.70 THEN 'closed' WHEN r0.s < 0.74 THEN 'reported'
                                         WHEN r0.s < 0.77 THEN 'accepted' WHEN r0.s < 0.82 THEN 'dispatched'
                                         WHEN r0.s < 0.86 THEN 'in_progress' WHEN r0.s < 0.88 THEN 'handled'
                                         WHEN r0.s < 0.90 THEN 'verified' WHEN r0.s < 0.94 THEN 'rejected'
                                         WHEN r0.s < 0.96 THEN 'void' WHEN r0.s < 0.98 THEN 'parked'
                                         ELSE 'reopened' END AS state) r
  JOIN LATERAL (SELECT k.*, d.words FROM gridmap_concerncategory k
                  JOIN (VALUES ('sanitation', 0.30, ARRAY['楼道堆放杂物', '垃圾桶满溢', '绿化带里有垃圾', '污水外溢']),
                               ('facilities', 0.52, ARRAY['楼道灯不亮', '电梯故障', '井盖破损', '单元门禁损坏']),
                               ('disputes', 0.64, ARRAY['楼上漏水纠纷', '噪音扰民', '占用公共车位']),
                               ('safety', 0.74, ARRAY['电动车楼道充电', '消防通道被占', '路灯不亮']),
                               ('elderly_disabled', 0.84, ARRAY['独居老人需要上门探视', '残疾人出行需要帮助']),
                               ('policy', 0.93, ARRAY['咨询医保报销', '咨询低保申请', '咨询养老补贴']),
                               ('wish', 1.01, ARRAY['想要一台收音机', '希望有人辅导孩子功课', '想学用智能手机']))
                       AS d(code, upto, words) ON d.code = k.code
                 WHERE r0.c < d.upto ORDER BY d.upto LIMIT 1) k ON TRUE
 WHERE h.n %% %(every)s = 0
 ORDER BY h.id
"""
_HISTORY = """
WITH steps(action, rank, hours, from_state, to_state) AS (
    VALUES ('report', 0, 0, '', 'reported'), ('accept', 1, 2, 'reported', 'accepted'),
           ('dispatch', 2, 6, 'accepted', 'dispatched'), ('handle', 3, 40, 'dispatched', 'handled'),
           ('verify_pass', 4, 52, 'handled', 'verified'), ('feedback', 5, 70, 'verified', 'closed')),
reached(state, rank, last) AS (
    VALUES ('reported', 0, NULL), ('accepted', 1, NULL), ('dispatched', 2, NULL), ('in_progress', 2, 'start'),
           ('handled', 3, NULL), ('verified', 4, NULL), ('closed', 5, NULL), ('reopened', 5, 'feedback'),
           ('rejected', 0, 'reject'), ('void', 1, 'void'), ('parked', 1, 'park'))
INSERT INTO gridmap_concernevent (concern_id, at, user_id, actor, action, from_state, to_state, note)
SELECT c.id, c.created_at + s.hours * interval '1 hour', NULL, '演示', s.action, s.from_state,
       CASE WHEN s.rank = r.rank AND r.last IS NOT NULL THEN c.state ELSE s.to_state END, ''
  FROM gridmap_concern c JOIN reached r ON r.state = c.state JOIN steps s ON s.rank <= r.rank
"""
_DEADLINES = """
UPDATE gridmap_concern c
   SET stage_started_at = e.last_at,
       due_at = CASE WHEN c.state IN ('closed', 'rejected', 'void', 'parked') THEN NULL
                     ELSE e.last_at + interval '1 hour' * CASE
                          WHEN c.state = 'reported' THEN k.accept_hours
                          WHEN c.state IN ('accepted', 'reopened') THEN k.dispatch_hours
                          WHEN c.state IN ('dispatched', 'in_progress') THEN k.handle_hours
                          ELSE k.verify_hours END / CASE WHEN c.urgency = 'urgent' THEN 2 ELSE 1 END END
  FROM (SELECT concern_id, max(at) AS last_at FROM gridmap_concernevent GROUP BY concern_id) e,
       gridmap_concerncategory k
 WHERE e.concern_id = c.id AND k.id = c.category_id;
UPDATE gridmap_concern SET escalated = TRUE WHERE due_at < now() - interval '1 day';
"""


@transaction.atomic
def load_demo_concerns(*, every: int = 5, seed: float = 0.2026) -> int:
    """One concern for every ``every``-th household of the demo (15,000 households: 3,000), when there is none."""
    if Concern.objects.exists():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(_CONCERNS, {"every": every})
        made = cursor.rowcount
        cursor.execute(_HISTORY)
        cursor.execute(_DEADLINES)
    fill_stage_times()
    return made
