-- mart_checkins: wellbeing check-in answers per UTC day: ratings and what the answers changed.
--   day: UTC calendar date of the answer
--   answers: check-ins answered
--   users: distinct users who answered
--   avg_rating: mean rating (1-5)
--   low_ratings: answers rated 1 or 2
--   lowered_budget: answers that lowered the daily budget
--   quiet_hours_on: answers that turned on quiet hours
--   steered: answers whose words became a steering
--   with_text: answers with words
with

source as (
    select user_id, ts, rating, text, applied from user_checkins
),

final as (
    select
        ts::date as day,
        count(*) as answers,
        count(distinct user_id) as users,
        avg(rating) as avg_rating,
        count(*) filter (where rating <= 2) as low_ratings,
        count(*) filter (where (applied ->> 'daily_limit_minutes') is not null) as lowered_budget,
        count(*) filter (where (applied ->> 'quiet_hours') is not null) as quiet_hours_on,
        count(*) filter (where (applied -> 'steering') is not null) as steered,
        count(*) filter (where coalesce(text, '') <> '') as with_text
    from source
    group by 1
)

select * from final order by day
