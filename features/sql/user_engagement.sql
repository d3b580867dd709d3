-- user_engagement: what a user watched and did, per window and decayed.
-- Computed at $now from part_user (per user and hour); a window of N days holds the hours that
-- end less than N days before $now. Rates are per view; completion is the mean of
-- watch/duration (capped at 1) over views.
with

daily as (
    select
        *,
        -- 24h periods before now (0 = the last 24h), capped since only 28d windows exist
        least(floor(greatest(date_diff('microsecond', bucket, $now::timestamp), 0) / 86400e6), 28)
            ::integer as day,
        pow(0.5, date_diff('microsecond', bucket, $now::timestamp) / 3600e6
            / $engagement_half_life_hours) as scale
    from part_user
),

windowed as (
    select
        user_id,
        sum(views) filter (where day < 1)::bigint as views_1d,
        sum(views) filter (where day < 7)::bigint as views_7d,
        sum(views) filter (where day < 28)::bigint as views_28d,
        sum(watch_ms) filter (where day < 1)::bigint as watch_1d,
        sum(watch_ms) filter (where day < 7)::bigint as watch_7d,
        sum(watch_ms) filter (where day < 28)::bigint as watch_28d,
        sum(completion_sum) filter (where day < 1) / sum(completion_n) filter (where day < 1) as completion_rate_1d,
        sum(completion_sum) filter (where day < 7) / sum(completion_n) filter (where day < 7) as completion_rate_7d,
        sum(completion_sum) filter (where day < 28) / sum(completion_n) filter (where day < 28) as completion_rate_28d,
        sum(likes) filter (where day < 1)::bigint as likes_1d,
        sum(likes) filter (where day < 7)::bigint as likes_7d,
        sum(likes) filter (where day < 28)::bigint as likes_28d,
        sum(shares) filter (where day < 1)::bigint as shares_1d,
        sum(shares) filter (where day < 7)::bigint as shares_7d,
        sum(shares) filter (where day < 28)::bigint as shares_28d,
        sum(remixes) filter (where day < 1)::bigint as remixes_1d,
        sum(remixes) filter (where day < 7)::bigint as remixes_7d,
        sum(remixes) filter (where day < 28)::bigint as remixes_28d,
        sum(comments) filter (where day < 1)::bigint as comments_1d,
        sum(comments) filter (where day < 7)::bigint as comments_7d,
        sum(comments) filter (where day < 28)::bigint as comments_28d,
        sum(skips) filter (where day < 1)::bigint as skips_1d,
        sum(skips) filter (where day < 7)::bigint as skips_7d,
        sum(skips) filter (where day < 28)::bigint as skips_28d,
        sum(hides) filter (where day < 1)::bigint as hides_1d,
        sum(hides) filter (where day < 7)::bigint as hides_7d,
        sum(hides) filter (where day < 28)::bigint as hides_28d,
        sum(reports) filter (where day < 1)::bigint as reports_1d,
        sum(reports) filter (where day < 7)::bigint as reports_7d,
        sum(reports) filter (where day < 28)::bigint as reports_28d,
        count(distinct day) filter (where day < 1) as active_days_1d,
        count(distinct day) filter (where day < 7) as active_days_7d,
        count(distinct day) filter (where day < 28) as active_days_28d,
        coalesce(sum(views_decay * scale), 0) as views_decayed,
        coalesce(sum(watch_ms_decay * scale), 0) / 60000.0 as watch_min_decayed,
        date_diff('microsecond', max(last_ts), $now::timestamp) / 3600e6 as last_active_hours_ago,
        sum(views)::bigint as views_total,
        sum(completion_sum) / sum(completion_n) as completion_rate_total,
        sum(likes)::bigint as likes_total,
        sum(shares + remixes + comments)::bigint as creations_total,
        sum(hides + reports)::bigint as negatives_total
    from daily
    group by user_id
),

sessions as (
    select
        user_id,
        count_if(session_start >= $now::timestamp - interval 1 day) as sessions_1d,
        count_if(session_start >= $now::timestamp - interval 7 days) as sessions_7d,
        count_if(session_start >= $now::timestamp - interval 28 days) as sessions_28d
    from stg_sessions
    where personal
    group by user_id
),

final as (
    select
        w.user_id,
        coalesce(views_1d, 0) as views_1d,
        coalesce(views_7d, 0) as views_7d,
        coalesce(views_28d, 0) as views_28d,
        coalesce(watch_1d, 0) / 60000.0 as watch_min_1d,
        coalesce(watch_7d, 0) / 60000.0 as watch_min_7d,
        coalesce(watch_28d, 0) / 60000.0 as watch_min_28d,
        completion_rate_1d, completion_rate_7d, completion_rate_28d,
        likes_1d / nullif(views_1d, 0) as like_rate_1d,
        likes_7d / nullif(views_7d, 0) as like_rate_7d,
        likes_28d / nullif(views_28d, 0) as like_rate_28d,
        shares_1d / nullif(views_1d, 0) as share_rate_1d,
        shares_7d / nullif(views_7d, 0) as share_rate_7d,
        shares_28d / nullif(views_28d, 0) as share_rate_28d,
        remixes_1d / nullif(views_1d, 0) as remix_rate_1d,
        remixes_7d / nullif(views_7d, 0) as remix_rate_7d,
        remixes_28d / nullif(views_28d, 0) as remix_rate_28d,
        comments_1d / nullif(views_1d, 0) as comment_rate_1d,
        comments_7d / nullif(views_7d, 0) as comment_rate_7d,
        comments_28d / nullif(views_28d, 0) as comment_rate_28d,
        skips_1d / nullif(views_1d, 0) as skip_rate_1d,
        skips_7d / nullif(views_7d, 0) as skip_rate_7d,
        skips_28d / nullif(views_28d, 0) as skip_rate_28d,
        hides_1d / nullif(views_1d, 0) as hide_rate_1d,
        hides_7d / nullif(views_7d, 0) as hide_rate_7d,
        hides_28d / nullif(views_28d, 0) as hide_rate_28d,
        reports_1d / nullif(views_1d, 0) as report_rate_1d,
        reports_7d / nullif(views_7d, 0) as report_rate_7d,
        reports_28d / nullif(views_28d, 0) as report_rate_28d,
        active_days_1d, active_days_7d, active_days_28d,
        coalesce(s.sessions_1d, 0) as sessions_1d,
        coalesce(s.sessions_7d, 0) as sessions_7d,
        coalesce(s.sessions_28d, 0) as sessions_28d,
        views_decayed,
        watch_min_decayed,
        last_active_hours_ago,
        views_total,
        completion_rate_total,
        likes_total / nullif(views_total, 0) as like_rate_total,
        creations_total / nullif(views_total, 0) as create_rate_total,
        negatives_total / nullif(views_total, 0) as negative_rate_total
    from windowed as w
    left join sessions as s on s.user_id = w.user_id
)

select * from final
