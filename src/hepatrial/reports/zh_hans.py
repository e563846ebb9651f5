# ruff: noqa: E501  (a catalogue: one entry a line reads better than wrapped CJK text)
"""The report's catalogue in Simplified Chinese: English text (the key) → Chinese.

Keys are exactly the texts passed to :func:`hepatrial.reports.i18n.tr`; ``{name}`` fields must
stay as they are. ``tests/reports/test_report_language.py`` fails when a text has no entry.
"""

ZH: dict[str, str] = {
    # cover, contents, headings
    "Statistical report": "统计分析报告",
    "Blinded report: arms are coded": "盲态报告：组别以代码表示",
    "Item": "项目",
    "Value": "内容",
    "Registry": "注册号",
    "Sponsor": "申办方",
    "Sites": "研究中心",
    "Protocol": "研究方案",
    "Note": "说明",
    "Analysis plan": "统计分析计划",
    "Data cut-off": "数据截止日期",
    "Database lock": "数据库锁定",
    "Blinding": "盲态",
    "Report": "报告",
    "Contents": "目录",
    "version {version}, content hash {hash}": "版本 {version}，内容哈希 {hash}",
    "version {version}, {date}": "版本 {version}，{date}",
    "reported under another protocol than the export's": "所用方案与数据导出时的方案不同",
    "from the protocol's analysis section": "来自研究方案的统计分析部分",
    "protocol {version} analysis section": "研究方案 {version} 版统计分析部分",
    "not known": "未知",
    "not known (datasets without provenance.json)": "未知（数据集旁无 provenance.json）",
    "not locked: data may still change": "未锁定：数据仍可能变化",
    "locked by {user} at {when} UTC; reason: {reason}": "由 {user} 于 {when} UTC 锁定；原因：{reason}",
    "blinded: arms are coded": "盲态：组别以代码表示",
    "unblinded": "非盲态",
    "Statistical methods": "统计方法",
    "Participant flow": "受试者流程",
    "Table 1. Baseline characteristics": "表1. 基线特征",
    "Primary outcome: Child-Pugh class A at the timepoint": "主要结局：评估时间点 Child-Pugh A 级",
    "Change from baseline in liver function and scores": "肝功能及评分较基线的变化",
    "Hepatic decompensation": "肝功能失代偿",
    "Survival and liver transplantation": "生存与肝移植",
    "Adverse events": "不良事件",
    "Reproducibility": "可重复性",
    # reproducibility stamp
    "software": "软件",
    "generated (UTC)": "生成时间（UTC）",
    "mode": "模式",
    "blinded: arms coded": "盲态：组别以代码表示",
    "analysis plan SHA-256": "统计分析计划 SHA-256",
    "protocol content hash": "研究方案内容哈希",
    # arms, lists
    "Arm {letter}": "{letter}组",
    "{b} vs {a}": "{b}对比{a}",
    ", ": "、",
    " and ": "和",
    "; ": "；",
    # methods
    "day {day}": "第 {day} 天",
    "day {day} (week {week})": "第 {day} 天（第 {week} 周）",
    "the randomization stratum ({column})": "随机分层因素（{column}）",
    "no covariate": "无协变量",
    "death": "死亡",
    "liver transplantation": "肝移植",
    "counted as not responding": "计为无应答",
    "excluded (complete-case analysis)": "予以排除（完整病例分析）",
    "multiply imputed": "采用多重插补",
    "intention-to-treat population (all randomized participants, analysed as randomized)": "意向性治疗人群（所有随机化受试者，按随机分组分析）",
    "per-protocol population": "符合方案人群",
    "safety population (participants who received any infusion)": "安全性人群（接受过任一次输注的受试者）",
    "Two arms are compared: {b} versus {a} (the reference); every effect is expressed in that "
    "direction with a {level} confidence interval and a two-sided P value. Efficacy analyses "
    "use the {population}; safety analyses use the {safety}.": "比较两组：{b}对比{a}（对照）；所有效应均按此方向表示，并给出 {level} 置信区间和双侧 P 值。"
    "有效性分析采用{population}；安全性分析采用{safety}。",
    "<b>Primary endpoint.</b> The proportion of participants with Child-Pugh class {value} "
    "({param}) at {timepoint}. ": "<b>主要终点。</b>{timepoint}时 Child-Pugh {value} 级（{param}）受试者的比例。",
    "Participants who had {events} on or before {day} are counted as not responding "
    "(composite strategy, ICH E9(R1)). ": "在{day}或之前发生{events}的受试者计为无应答（复合策略，ICH E9(R1)）。",
    "Participants alive and without transplant but with no value are {missing}. The "
    "difference in proportions is estimated with Newcombe's hybrid score interval (method 10, "
    "from Wilson intervals), tested with Fisher's exact test, and an odds ratio adjusted for "
    "{adjusted} is estimated by logistic regression. Sensitivity analyses: missing values "
    "{others}": "存活且未行肝移植但无观测值的受试者{missing}。比例之差采用 Newcombe 混合得分区间（方法 10，"
    "基于 Wilson 区间）估计，以 Fisher 精确检验进行检验，并以 logistic 回归估计校正{adjusted}"
    "的比值比。敏感性分析：缺失值{others}",
    ", and the primary analysis in the {population}": "，以及在{population}中的主要分析",
    ". Multiple imputation uses {m} imputations from a logistic model (arm, stratum, baseline "
    "Child-Pugh score) with seed {seed}, combined by Rubin's rules.": "。多重插补基于 logistic 模型（组别、分层、基线 Child-Pugh 评分）进行 {m} 次插补，"
    "随机种子 {seed}，按 Rubin 规则合并。",
    "<b>Change from baseline.</b> For {params}, the value at {timepoint} is analysed by ANCOVA "
    "with arm, baseline value and {adjusted} as covariates": "<b>较基线的变化。</b>对{params}，{timepoint}时的数值采用协方差分析（ANCOVA），"
    "以组别、基线值及{adjusted}为协变量",
    "; {params} are analysed on the log scale and reported as ratios of geometric means": "；{params}在对数尺度上分析，结果以几何均数比表示",
    ". A linear mixed model over all post-baseline visits (random intercept per participant, "
    "REML, visit as a factor, arm-by-visit interaction; containment degrees of freedom) is the "
    "sensitivity analysis, estimating the same contrast at the timepoint.": "。敏感性分析采用包含所有基线后访视的线性混合模型（受试者随机截距、REML、访视作为因子、"
    "组别×访视交互作用；containment 自由度），估计同一时间点的相同对比。",
    " Values after a liver transplant are excluded (while-on-treatment strategy).": "肝移植后的数值不纳入分析（治疗期间策略）。",
    "<b>Time to event.</b> Survival ({survival}) is estimated by Kaplan-Meier with Greenwood "
    "variance and log-transformed confidence intervals (R survival's default), compared with "
    "the log-rank test, and summarized by a Cox hazard ratio (Efron ties). Decompensation "
    "events and transplantation ({competing}) are analysed with death (and transplantation, "
    "for decompensation) as competing risks: cumulative incidence by Aalen-Johansen, compared "
    "with Gray's test, and the proportion of participants with an event by the timepoint with "
    "an exact (Clopper-Pearson) interval. Estimates are reported at days {days}.": "<b>时间-事件分析。</b>生存（{survival}）采用 Kaplan-Meier 法估计，Greenwood 方差及"
    "对数变换置信区间（R survival 默认），以 log-rank 检验比较，并以 Cox 风险比（Efron 结）"
    "概括。失代偿事件和肝移植（{competing}）以死亡（失代偿另含肝移植）为竞争风险分析："
    "累积发生率采用 Aalen-Johansen 法，以 Gray 检验比较；截至评估时间点发生事件的受试者比例"
    "给出精确（Clopper-Pearson）区间。估计值报告于第 {days} 天。",
    "<b>Safety.</b> Treatment-emergent adverse events are counted as participants with at least "
    "one event and as events, by preferred term, worst CTCAE grade and seriousness; infusion "
    "reactions are reported separately.": "<b>安全性。</b>治疗期出现的不良事件按至少发生一次事件的受试者数和事件数统计，"
    "按首选术语、最严重 CTCAE 分级及严重性分类；输注反应单独报告。",
    "<b>Descriptive summaries.</b> Mean trajectories show the arithmetic mean of each parameter "
    "at each analysis visit with a t-based confidence interval, without imputation. The "
    "Child-Pugh shift table cross-classifies baseline class with the class at the timepoint, "
    "death or transplant taking precedence as in the primary analysis.": "<b>描述性汇总。</b>均值轨迹显示各参数在每个分析访视的算术均数及基于 t 分布的置信区间，"
    "不做插补。Child-Pugh 转移表将基线分级与评估时间点分级交叉分类，与主要分析一致，"
    "死亡或肝移植优先。",
    "<b>Numbers.</b> Means and differences are printed with each parameter's own decimals, "
    "percentages with one, ratios with two; confidence intervals as lower–upper; P values "
    "with three decimals, below 0.001 as &lt; 0.001.": "<b>数字格式。</b>均数和差值按各参数自身的小数位数显示，百分比保留一位小数，比值保留两位；"
    "置信区间写作 下限–上限；P 值保留三位小数，小于 0.001 时写作 &lt; 0.001。",
    "<b>Software.</b> hepatrial {version} with {libraries}. The methods were checked against R "
    "(survival, cmprsk, nlme, stats) on public data; see docs/statistics.md for tolerances and "
    "conventions.": "<b>软件。</b>hepatrial {version}，使用 {libraries}。各方法已在公开数据上与 R（survival、"
    "cmprsk、nlme、stats）核对；容差与约定见 docs/statistics.md。",
    # participant flow
    "Figure 1. CONSORT 2010 flow diagram.": "图1. CONSORT 2010 流程图。",
    "Enrollment": "入组",
    "Allocation": "分配",
    "Follow-up": "随访",
    "Analysis": "分析",
    "Assessed for eligibility (n={n})": "评估合格性（n={n}）",
    "Excluded (n={n})": "排除（n={n}）",
    "Not meeting eligibility criteria (n={n})": "不符合入选/排除标准（n={n}）",
    "(a person may fail more than one criterion)": "（一人可不符合多条标准）",
    "Declined to participate (n={n})": "拒绝参加（n={n}）",
    "Eligible, not yet randomized (n={n})": "合格，尚未随机（n={n}）",
    "Other reasons (n={n})": "其他原因（n={n}）",
    "Randomized (n={n})": "随机化（n={n}）",
    "No screening list (screening.csv) supplied:": "未提供筛选名单（screening.csv）：",
    "the diagram starts at randomization": "流程图从随机化开始",
    "Allocated to {arm} (n={n})": "分配至{arm}（n={n}）",
    "Received allocated intervention (n={n})": "接受了分配的干预（n={n}）",
    "Did not receive it (n={n})": "未接受（n={n}）",
    "Lost to follow-up (n={n})": "失访（n={n}）",
    "Discontinued (n={n})": "中止（n={n}）",
    "{reason} (n={n})": "{reason}（n={n}）",
    "withdrawal": "撤回",
    "withdrawal by subject": "受试者撤回",
    "liver transplant": "肝移植",
    "not given": "未说明",
    "Analysed (n={n})": "纳入分析（n={n}）",
    "Excluded from analysis (n={n})": "排除出分析（n={n}）",
    # Table 1
    "Characteristic": "特征",
    "All (N={n})": "合计（N={n}）",
    "{name}: mean (SD), median [IQR]": "{name}：均数（标准差），中位数 [四分位距]",
    "Age, years": "年龄，岁",
    "Child-Pugh score": "Child-Pugh 评分",
    "MELD score": "MELD 评分",
    "Sex": "性别",
    "Etiology": "病因",
    "Stratum (as randomized)": "分层（随机时）",
    "{factor} (as randomized)": "{factor}（随机时）",
    "Child-Pugh class": "Child-Pugh 分级",
    # primary outcome
    "{endpoint}, {population}.": "{endpoint}，{population}。",
    "Proportion with Child-Pugh class {value} at {timepoint}": "{timepoint}时 Child-Pugh {value} 级的比例",
    "intention-to-treat population": "意向性治疗人群",
    "safety population": "安全性人群",
    "Missing counted as not responding": "缺失计为无应答",
    "Complete cases": "完整病例",
    "Multiple imputation": "多重插补",
    "Per-protocol population": "符合方案人群",
    "Primary: {name}": "主要分析：{name}",
    "Sensitivity: {name}": "敏感性分析：{name}",
    "Risk difference, {contrast} (95% CI)": "率差，{contrast}（95% CI）",
    "Risk difference, {contrast}": "率差，{contrast}",
    "Odds ratio adjusted for stratum (95% CI)": "分层校正比值比（95% CI）",
    "{arm}: {randomized} randomized, {events} died or transplanted, {missing} missing": "{arm}：随机 {randomized} 例，死亡或肝移植 {events} 例，缺失 {missing} 例",
    ". P: Fisher's exact test (multiple imputation: Wald test with Rubin's rules). Cells: "
    "responders/analysed (%), 95% Wilson interval.": "。P：Fisher 精确检验（多重插补：按 Rubin 规则的 Wald 检验）。单元格：应答数/分析数（%），"
    "95% Wilson 区间。",
    "Proportion in Child-Pugh class A: difference between arms": "Child-Pugh A 级比例：组间差异",
    "Risk difference with 95% CI, primary analysis and each sensitivity analysis.": "率差及 95% CI：主要分析及各敏感性分析。",
    "Child-Pugh class at baseline and at the timepoint": "基线与评估时间点的 Child-Pugh 分级",
    "Arm": "组别",
    "Baseline class": "基线分级",
    "Died": "死亡",
    "Transplanted": "肝移植",
    "Missing": "缺失",
    # change from baseline
    "Parameter": "参数",
    "ANCOVA at the timepoint, {contrast}": "评估时间点 ANCOVA，{contrast}",
    "Mixed model, all visits": "混合模型，所有访视",
    "ratio": "比值",
    "difference": "差值",
    "Arm cells: mean at baseline → mean at the timepoint. Log-scale parameters give a ratio of "
    "geometric means (1 = no difference); the others a difference in mean change. Both models "
    "adjust for the baseline value and the stratum.": "组别单元格：基线均数 → 评估时间点均数。对数尺度参数给出几何均数比（1 = 无差异）；"
    "其余参数给出均数变化之差。两种模型均校正基线值和分层。",
    "Figure {i}. {name}: mean and 95% CI at each visit.": "图{i}. {name}：各访视均数及 95% CI。",
    "Mean": "均数",
    "Mean ({unit})": "均数（{unit}）",
    "Alanine aminotransferase": "丙氨酸氨基转移酶",
    "Aspartate aminotransferase": "天冬氨酸氨基转移酶",
    "Alkaline phosphatase": "碱性磷酸酶",
    "Total bilirubin": "总胆红素",
    "Albumin": "白蛋白",
    "Prothrombin time": "凝血酶原时间",
    "International normalized ratio": "国际标准化比值",
    "Creatinine": "肌酐",
    "Sodium": "血钠",
    "MELD-Na score": "MELD-Na 评分",
    "MELD 3.0 score": "MELD 3.0 评分",
    "ALBI score": "ALBI 评分",
    # time to event
    "Death from any cause": "全因死亡",
    "Liver transplantation": "肝移植",
    "First hepatic decompensation": "首次肝功能失代偿",
    "First gastrointestinal bleeding": "首次消化道出血",
    "First new or worsening ascites": "首次新发或加重腹水",
    "First hepatic encephalopathy": "首次肝性脑病",
    "Transplant-free survival": "无肝移植生存",
    "Outcome": "结局",
    "Events/N": "事件数/N",
    "Kaplan-Meier estimate (95% CI)": "Kaplan-Meier 估计（95% CI）",
    "Median": "中位数",
    "not reached": "未达到",
    "{n} days": "{n} 天",
    "Log-rank P {p}; hazard ratio {hr} ({ci})": "Log-rank P {p}；风险比 {hr}（{ci}）",
    "Participants with event by the timepoint (exact 95% CI)": "截至评估时间点发生事件的受试者（精确 95% CI）",
    "Competing events": "竞争事件",
    "Cumulative incidence (95% CI)": "累积发生率（95% CI）",
    "Gray's test P {p}": "Gray 检验 P {p}",
    "Probability": "概率",
    "Cumulative incidence": "累积发生率",
    "Number at risk": "风险人数",
    "Days since randomization": "随机化后天数",
    "{name}: cumulative incidence (Aalen-Johansen) with numbers at risk.": "{name}：累积发生率（Aalen-Johansen）及风险人数。",
    "{name}: Kaplan-Meier estimate with 95% CI and numbers at risk.": "{name}：Kaplan-Meier 估计及 95% CI 和风险人数。",
    "Liver transplantation: cumulative incidence with death as competing risk.": "肝移植：以死亡为竞争风险的累积发生率。",
    # safety
    "These datasets come from a blinded export, which leaves infusion reactions out (a "
    "reaction at the second infusion would tell the arm); the unblinded report shows them.": "这些数据集来自盲态导出，其中不含输注反应（第二次输注时的反应会暴露组别）；非盲态报告中列出。",
    "Treatment-emergent events, safety population analysed {basis}. Cells: participants (%) "
    "[events].": "治疗期出现的事件，安全性人群{basis}分析。单元格：受试者数（%）[事件数]。",
    "as randomized": "按随机分组",
    "as treated": "按实际治疗",
    "Overview": "概况",
    "By preferred term": "按首选术语",
    "Participants by worst grade": "按最严重分级的受试者",
    "By term and seriousness": "按术语及严重性",
    "Preferred term": "首选术语",
    "Worst CTCAE grade": "最严重 CTCAE 分级",
    "Seriousness": "严重性",
    "serious": "严重",
    "not serious": "非严重",
    "Grade {grade}": "{grade} 级",
    "Any": "任何不良事件",
    "Serious": "严重不良事件",
    "Grade 3 or more": "3 级及以上",
    "Related": "相关",
    "Infusion reaction": "输注反应",
    "Fatal": "致死",
    # investigator signatures (reports/signatures.py)
    "Investigator signatures": "研究者签名",
    "Site": "研究中心",
    "Casebooks": "病例报告册",
    "Signed, valid": "已签名且有效",
    "Signature void": "签名已失效",
    "Unsigned": "未签名",
    "Signed by (printed name)": "签名人（姓名）",
    "Signed on": "签名日期",
    "Electronic signatures of the casebooks (21 CFR 11) from signatures.csv of the export; a casebook counts by its latest signature, void when data changed after signing.": "病例报告册的电子签名（21 CFR 11），来自数据导出的 signatures.csv；每册按其最近一次签名计数，签名后数据有改动即失效。",
    # data-safety board reports (reports/board.py)
    "Open report: arms pooled": "公开报告：各组合并",
    "Data-safety board: open report": "数据安全监察委员会：公开报告",
    "CLOSED report: by arm, for the data-safety board only": "闭门报告：按组别，仅供数据安全监察委员会",
    "Data-safety board: closed report": "数据安全监察委员会：闭门报告",
    "All participants": "全部受试者",
    "Enrolment": "入组",
    "Screened": "已筛选",
    "Randomized at site {site}": "研究中心 {site} 随机化",
    "Randomized in {month}": "{month} 随机化",
    "On study": "研究中",
    "Completed": "已完成",
    "Discontinued": "已退出",
    "Visit (day)": "访视（天）",
    "Data completeness": "数据完整性",
    "Participants with a laboratory value analysed at each scheduled visit.": "各计划访视有实验室检查分析值的受试者。",
    "Any adverse event": "任何不良事件",
    "Deaths (any cause)": "死亡（任何原因）",
    "Aggregate safety": "合并安全性",
    "Safety by arm": "按组别的安全性",
    "Generated (UTC)": "生成时间（UTC）",
    "version {version}": "版本 {version}",
    "Arms are pooled: this report shows no result by arm and leaves infusion reactions out (a reaction at the second infusion would tell the arm); the closed report has them.": "各组合并：本报告不按组别显示任何结果，且不含输注反应（第二次输注时的反应会暴露组别）；闭门报告中包含这些内容。",
    "Confidential to the data-safety board: results by arm. Do not pass to the trial team or any blinded person.": "仅限数据安全监察委员会：按组别的结果。不得转交研究团队或任何处于盲态的人员。",
    # the statistician's approval on the approved copy's cover (reports/approval.py)
    "Approval (electronic signature)": "批准（电子签名）",
    "Approved by": "批准人",
    "{name} ({username}), trial statistician": "{name}（{username}），试验统计师",
    "Signed at": "签名时间",
    "Meaning of the signature": "签名含义",
    "{meaning}: {statement}": "{meaning}：{statement}",
    "approved": "批准",
    "I have reviewed this statistical report and approve it as the analysis of record of the data and analysis plan named in its stamp.": "本人已审阅本统计分析报告，批准其作为其印记（stamp）所列数据和统计分析计划的正式分析。",
    "Signature bound to": "签名绑定于",
    "report.pdf SHA-256 {pdf}; stamp.json SHA-256 {stamp}": "report.pdf 的 SHA-256 {pdf}；stamp.json 的 SHA-256 {stamp}",
    "Audit record": "稽查记录",
    "SHA-256 {hash}": "SHA-256 {hash}",
    "This approved copy is report.pdf with this block added after signing: the signature binds report.pdf and stamp.json by the SHA-256 above, not this copy's own bytes. hepatrial report verify checks both against the report folder.": "本批准副本是在签名后于 report.pdf 上加入本栏而成：签名按上述 SHA-256 绑定 report.pdf 和 stamp.json，而非本副本自身的字节。hepatrial report verify 会对照报告文件夹核对两者。",
}
