-- video_engagement: how a video is watched, whether it is trending, and how fresh it is.
-- Rows: every item created before now (or with unknown created_at) and every item in events.
-- Computed at $now from part_item (per item and hour).
with

hourly as (
    select
        *,
        least(floor(greatest(date_diff('microsecond', bucket, $now::timestamp), 0) / 86400e6), 28)
            ::integer as day,
        pow(0.5, date_diff('microsecond', bucket, $now::timestamp) / 3600e6
            / $trending_half_life_hours) as scale
    from part_item
),

-- one row per item and 24h period first: the windowed aggregates then read up to 29 rows per
-- item instead of one per hour
daily as (
    select
        item_id,
        day,
        sum(views) as views,
        sum(impressions) as impressions,
        sum(watch_ms) as watch_ms,
        sum(completion_sum) as completion_sum,
        sum(completion_n) as completion_n,
        sum(likes) as likes,
        sum(shares) as shares,
        sum(remixes) as remixes,
        sum(comments) as comments,
        sum(skips) as skips,
        sum(hides) as hides,
        sum(reports) as reports,
        sum(views_decay_trending * scale) as views_decayed,
        min(bucket) as first_bucket
    from hourly
    group by item_id, day
),

windowed as (
    select
        item_id,
        sum(views) filter (where day < 1)::bigint as views_1d,
        sum(views) filter (where day < 7)::bigint as views_7d,
        sum(views) filter (where day < 28)::bigint as views_28d,
        sum(impressions) filter (where day < 1)::bigint as impressions_1d,
        sum(impressions) filter (where day < 7)::bigint as impressions_7d,
        sum(impressions) filter (where day < 28)::bigint as impressions_28d,
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
        sum(views_decayed) as views_decayed,
        -- all-time sums, for video_totals (features/sql/macros/video_totals.sql)
        sum(views) as views_all,
        sum(completion_sum) as completion_sum_all,
        sum(completion_n) as completion_n_all,
        sum(likes) as likes_all,
        sum(shares) as shares_all,
        sum(remixes) as remixes_all,
        sum(comments) as comments_all,
        sum(hides) as hides_all,
        sum(reports) as reports_all,
        min(first_bucket) as first_bucket
    from daily
    group by item_id
),

catalogued as (
    select item_id, creator_id, duration_ms, created_at
    from items
    where created_at < $now or created_at is null
),

joined as (
    select
        coalesce(c.item_id, w.item_id) as item_id,
        c.creator_id,
        c.duration_ms,
        c.created_at,
        w.* exclude (item_id)
    from catalogued as c
    full outer join windowed as w on w.item_id = c.item_id
),

final as (
    select
        item_id,
        creator_id,
        duration_ms,
        greatest(date_diff('millisecond', created_at, $now::timestamp) / 3600e3, 0) as age_hours,
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
        coalesce(impressions_1d, 0) as impressions_1d,
        coalesce(impressions_7d, 0) as impressions_7d,
        coalesce(impressions_28d, 0) as impressions_28d,
        -- trending: today's views against the mean daily views of the six days before
        (coalesce(views_1d, 0) + 1.0) / ((coalesce(views_7d, 0) - coalesce(views_1d, 0)) / 6.0 + 1.0)
            as velocity,
        coalesce(views_decayed, 0) as views_decayed,
        -- views_total, completion_rate_total, like_rate_total, create_rate_total,
        -- negative_rate_total: defined once, shared with the live tiles
        unnest(video_totals(views_all, completion_sum_all, completion_n_all, likes_all,
                            shares_all, remixes_all, comments_all, hides_all, reports_all)),
        greatest(date_diff('microsecond', first_bucket, $now::timestamp) / 3600e6, 0)
            as first_seen_hours_ago
    from joined
)

select * from final
