-- _macros: helpers the marts share (not a mart).
-- fw_age_band(birth_date, at): the age band on the UTC date of `at`, the same bands as
-- wellbeing.age.age_band: child (<13), teen_13_15, teen_16_17, adult, unknown (no or future date).
create or replace macro fw_age_band(birth_date, ts_at) as (
    case
        when birth_date is null or birth_date > ts_at::date then 'unknown'
        when year(ts_at::date) - year(birth_date)
             - (strftime(ts_at::date, '%m%d') < strftime(birth_date, '%m%d'))::integer
             < $child_age then 'child'
        when year(ts_at::date) - year(birth_date)
             - (strftime(ts_at::date, '%m%d') < strftime(birth_date, '%m%d'))::integer
             <= 15 then 'teen_13_15'
        when year(ts_at::date) - year(birth_date)
             - (strftime(ts_at::date, '%m%d') < strftime(birth_date, '%m%d'))::integer
             <= $teen_max_age then 'teen_16_17'
        else 'adult'
    end
)
