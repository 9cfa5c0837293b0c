-- Define the NPS scalar macros (score, adjusted-Wald 95 % bounds) used by every aggregate.
CREATE OR REPLACE MACRO nps_score(promoters, detractors, responses) AS
    CASE WHEN responses > 0
        THEN 100.0 * (promoters - detractors) / responses END;

CREATE OR REPLACE MACRO nps_adjusted_shares(promoters, detractors, responses) AS {
    'p': (promoters + 0.75) / (responses + 3.0),
    'd': (detractors + 0.75) / (responses + 3.0),
    'n': responses + 3.0
};

CREATE OR REPLACE MACRO nps_adjusted_wald_bound(promoters, detractors, responses, direction) AS
    CASE WHEN responses > 0 THEN
        greatest(-100.0, least(100.0, 100.0 * (
            (nps_adjusted_shares(promoters, detractors, responses).p
             - nps_adjusted_shares(promoters, detractors, responses).d)
            + direction * 1.959963984540054 * sqrt(
                (nps_adjusted_shares(promoters, detractors, responses).p
                 + nps_adjusted_shares(promoters, detractors, responses).d
                 - pow(nps_adjusted_shares(promoters, detractors, responses).p
                       - nps_adjusted_shares(promoters, detractors, responses).d, 2))
                / nps_adjusted_shares(promoters, detractors, responses).n))))
    END;
