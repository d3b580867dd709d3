-- mart_removals: videos the wellbeing policies removed from feeds (audit_log action 'drop').
--   day: UTC calendar date
--   rule: the rule that dropped the video
--   reason: the stable reason string (wellbeing.reasons.Reason)
--   policy_version: the wellbeing policy version in force
--   removals: audit rows
--   users: distinct viewers affected
--   items: distinct videos removed
with

source as (
    select * from audit_log where action = 'drop'
),

final as (
    select
        ts::date as day,
        rule,
        reason,
        policy_version,
        count(*) as removals,
        count(distinct user_id) as users,
        count(distinct item_id) as items
    from source
    group by all
)

select * from final order by day, rule, reason
