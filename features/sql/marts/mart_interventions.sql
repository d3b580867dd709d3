-- mart_interventions: session interventions shown (breaks, daily limit, quiet hours,
-- diversify, no feed for children), from audit_log rows with action 'intervene'.
--   day: UTC calendar date
--   rule: the intervention type or rule that fired (e.g. break, daily_limit, quiet_hours)
--   reason: the stable reason string (wellbeing.reasons.Reason)
--   policy_version: the wellbeing policy version in force
--   interventions: audit rows
--   users: distinct users shown it
--   requests: distinct feed requests carrying it
with

source as (
    select * from audit_log where action = 'intervene'
),

final as (
    select
        ts::date as day,
        rule,
        reason,
        policy_version,
        count(*) as interventions,
        count(distinct user_id) as users,
        count(distinct request_id) as requests
    from source
    group by all
)

select * from final order by day, rule, reason
