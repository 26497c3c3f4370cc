"""The one string catalogue of the browser pages: Chinese (default) and English.

Python widgets, the log-in page and the three.js component (through its ``labels``
param) all take their words from ``CATALOGUE``; a test checks every key has both
languages and that no page shows a key that is missing here.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CATALOGUE", "DEFAULT_LANGUAGE", "LANGUAGES", "Language", "labels", "text"]

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
DEFAULT_LANGUAGE: Language = "zh"

CATALOGUE: dict[str, dict[str, str]] = {
    # page frame
    "app_title": {"zh": "二级孪生", "en": "Erji Twin"},
    "model_page_title": {"zh": "项目模型", "en": "Project model"},
    "language": {"zh": "语言", "en": "Language"},
    "log_out": {"zh": "退出登录", "en": "Log out"},
    "log_out_confirm": {"zh": "确定退出二级孪生？", "en": "Log out of Erji Twin?"},
    "signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    # log-in page
    "login_title": {"zh": "登录", "en": "Log in"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "login_button": {"zh": "登录", "en": "Log in"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_throttled": {"zh": "尝试次数过多，请稍后再试", "en": "Too many attempts; try again later"},
    "session_expired": {"zh": "登录已失效，请重新登录", "en": "Your session has ended; log in again"},
    # choosing what to show
    "project": {"zh": "项目", "en": "Project"},
    "revision": {"zh": "模型版本", "en": "Revision"},
    "schedule": {"zh": "进度计划", "en": "Schedule"},
    "no_schedule": {"zh": "（无进度计划）", "en": "(no schedule)"},
    "no_projects": {
        "zh": "您可访问的项目中还没有已处理的模型。",
        "en": "No processed model in your projects yet.",
    },
    "not_found": {
        "zh": "找不到该项目或模型版本，或您无权查看。",
        "en": "No such project or revision, or no access.",
    },
    "server_error": {"zh": "读取数据失败", "en": "Could not read the data"},
    # view controls
    "color_mode": {"zh": "着色", "en": "Colour by"},
    "mode_status": {"zh": "4D 进度状态", "en": "4D status"},
    "mode_class": {"zh": "IFC 类别", "en": "IFC class"},
    "mode_storey": {"zh": "楼层", "en": "Storey"},
    "mode_original": {"zh": "原始颜色", "en": "Original colours"},
    "not_started_as": {"zh": "未开始构件", "en": "Not started"},
    "not_started_ghost": {"zh": "半透明", "en": "Ghosted"},
    "not_started_hidden": {"zh": "隐藏", "en": "Hidden"},
    "storey": {"zh": "楼层", "en": "Storey"},
    "all_storeys": {"zh": "全部楼层", "en": "All storeys"},
    "storey_only": {"zh": "仅显示", "en": "Show only"},
    "storey_isolate": {"zh": "隔离（其余半透明）", "en": "Isolate (ghost the rest)"},
    "xray": {"zh": "X 光（选中以外半透明）", "en": "X-ray (ghost all but the selection)"},
    "section": {"zh": "剖切", "en": "Section"},
    "section_off": {"zh": "关闭", "en": "Off"},
    "section_x": {"zh": "东西向 (X)", "en": "East–west (X)"},
    "section_y": {"zh": "水平 (高度)", "en": "Horizontal (height)"},
    "section_z": {"zh": "南北向 (Z)", "en": "North–south (Z)"},
    "section_position": {"zh": "剖切位置", "en": "Cut position"},
    "date": {"zh": "日期", "en": "Date"},
    # 3D overlays (sent to the component as `labels`)
    "home": {"zh": "主视图", "en": "Home"},
    "fit": {"zh": "适应窗口", "en": "Fit"},
    "frame_selection": {"zh": "定位选中", "en": "Frame selection"},
    "play": {"zh": "播放", "en": "Play"},
    "pause": {"zh": "暂停", "en": "Pause"},
    "day": {"zh": "天", "en": "day"},
    "week": {"zh": "周", "en": "week"},
    "speed": {"zh": "播放速度", "en": "Speed"},
    "days_per_second": {"zh": "天/秒", "en": "days/s"},
    "loading": {"zh": "正在加载模型…", "en": "Loading the model…"},
    "load_failed": {"zh": "加载失败", "en": "Could not load"},
    "legend_status": {"zh": "进度状态", "en": "Schedule status"},
    "legend_class": {"zh": "IFC 类别", "en": "IFC class"},
    "legend_storey": {"zh": "楼层", "en": "Storey"},
    "legend_custom": {"zh": "图例", "en": "Legend"},
    "status_no_task": {"zh": "未关联任务", "en": "In no task"},
    "status_not_started": {"zh": "未开始", "en": "Not started"},
    "status_in_progress": {"zh": "进行中", "en": "In progress"},
    "status_done": {"zh": "已完成", "en": "Done"},
    "status_late": {"zh": "滞后", "en": "Late"},
    "status_ahead": {"zh": "超前", "en": "Ahead"},
    # 3D view: defects and pins
    "mode_defects": {"zh": "质量安全问题", "en": "Defects"},
    "legend_defects": {"zh": "问题（最严重等级）", "en": "Issues (worst severity)"},
    "defects_critical": {"zh": "严重", "en": "Critical"},
    "defects_major": {"zh": "较大", "en": "Major"},
    "defects_minor": {"zh": "一般", "en": "Minor"},
    "defects_none": {"zh": "无问题", "en": "No issue"},
    # task list
    "active_tasks": {"zh": "当日进行中的任务", "en": "Tasks active on the date"},
    "no_active_tasks": {"zh": "该日期没有进行中的任务。", "en": "No task is active on this date."},
    "task_wbs": {"zh": "WBS", "en": "WBS"},
    "task_name": {"zh": "任务", "en": "Task"},
    "task_start": {"zh": "开始", "en": "Start"},
    "task_finish": {"zh": "完成", "en": "Finish"},
    "task_status": {"zh": "状态", "en": "Status"},
    "task_delay": {"zh": "滞后(天)", "en": "Delay (d)"},
    "task_hint": {
        "zh": "点击任务可选中并定位其构件。",
        "en": "Click a task to select and frame its elements.",
    },
    # element panel
    "element": {"zh": "构件", "en": "Element"},
    "no_selection": {
        "zh": "点击模型中的构件查看属性。",
        "en": "Click an element in the model to see it here.",
    },
    "global_id": {"zh": "GlobalId", "en": "GlobalId"},
    "ifc_class": {"zh": "IFC 类别", "en": "IFC class"},
    "name": {"zh": "名称", "en": "Name"},
    "type_name": {"zh": "类型", "en": "Type"},
    "properties": {"zh": "属性", "en": "Properties"},
    "quantities": {"zh": "工程量", "en": "Quantities"},
    "classifications": {"zh": "分类编码", "en": "Classification"},
    "materials": {"zh": "材料", "en": "Materials"},
    "linked_tasks": {"zh": "关联任务", "en": "Linked tasks"},
    "no_linked_tasks": {"zh": "该构件未关联任务。", "en": "This element is in no task."},
    "planned": {"zh": "计划", "en": "Planned"},
    "actual": {"zh": "实际", "en": "Actual"},
    "element_not_found": {"zh": "该版本中没有此构件。", "en": "This revision has no such element."},
    "share_link": {"zh": "地址栏链接即可分享当前视图。", "en": "The address bar link shares this view."},
    # issues panel (the 整改 → 复查 loop)
    "tab_element": {"zh": "构件与任务", "en": "Element & tasks"},
    "tab_issues": {"zh": "质量安全问题", "en": "Issues"},
    "new_issue_here": {"zh": "在选中构件上新建问题", "en": "New issue on the selected element"},
    "new_issue_pick_first": {
        "zh": "先在模型中点选构件，再新建问题。",
        "en": "Pick an element in the model first, then raise the issue.",
    },
    "issue_no": {"zh": "编号", "en": "No."},
    "issue_title": {"zh": "标题", "en": "Title"},
    "issue_description": {"zh": "问题描述", "en": "Description"},
    "issue_kind": {"zh": "问题类型", "en": "Kind"},
    "kind_quality": {"zh": "质量问题", "en": "Quality defect"},
    "kind_safety": {"zh": "安全隐患", "en": "Safety hazard"},
    "kind_coordination": {"zh": "协调问题", "en": "Coordination topic"},
    "issue_severity": {"zh": "等级", "en": "Severity"},
    "severity_all": {"zh": "全部等级", "en": "All severities"},
    "severity_minor": {"zh": "一般", "en": "Minor"},
    "severity_major": {"zh": "较大 / 重大隐患", "en": "Major"},
    "severity_critical": {"zh": "严重", "en": "Critical"},
    "issue_status": {"zh": "状态", "en": "Status"},
    "issue_status_live": {"zh": "处理中", "en": "In the loop"},
    "issue_status_all": {"zh": "全部状态", "en": "All statuses"},
    "issue_status_draft": {"zh": "草稿", "en": "Draft"},
    "issue_status_open": {"zh": "待整改", "en": "Open"},
    "issue_status_ready_for_review": {"zh": "待复查", "en": "Ready for review"},
    "issue_status_disputed": {"zh": "有异议", "en": "Disputed"},
    "issue_status_closed": {"zh": "已闭合", "en": "Closed"},
    "issue_status_void": {"zh": "已作废", "en": "Void"},
    "issue_assignee": {"zh": "整改责任人", "en": "Assignee"},
    "assignee_all": {"zh": "全部责任人", "en": "Everyone"},
    "assignee_none": {"zh": "（暂不指派）", "en": "(not yet)"},
    "issue_overdue_only": {"zh": "仅逾期", "en": "Overdue only"},
    "issue_overdue": {"zh": "已逾期", "en": "overdue"},
    "issue_due": {"zh": "整改期限", "en": "Due"},
    "issue_creator": {"zh": "发起人", "en": "Raised by"},
    "issue_verifier": {"zh": "复查人", "en": "Verifier"},
    "issue_fourd_date": {"zh": "4D 日期", "en": "4D date"},
    "issue_elements": {"zh": "构件", "en": "Elements"},
    "issue_reopened": {"zh": "复查退回次数", "en": "Times reopened"},
    "issue_comments": {"zh": "记录", "en": "Comments"},
    "issue_photo": {"zh": "现场照片", "en": "Photo"},
    "photo_before": {"zh": "整改前", "en": "before"},
    "photo_after": {"zh": "整改后", "en": "after"},
    "issue_create": {"zh": "提交问题", "en": "Raise issue"},
    "issue_cancel": {"zh": "取消", "en": "Cancel"},
    "issue_created": {"zh": "已创建问题 #{n}", "en": "Issue #{n} raised"},
    "issue_title_needed": {"zh": "请填写标题。", "en": "Give the issue a title."},
    "issue_no_selection": {
        "zh": "在列表中选择问题，或点击模型中的图钉。",
        "en": "Choose an issue in the list, or tap a pin in the model.",
    },
    "no_issues": {"zh": "没有符合条件的问题。", "en": "No issue matches."},
    "issue_reason": {"zh": "说明 / 原因", "en": "Note / reason"},
    "issue_reason_hint": {
        "zh": "整改说明、复查结论，或退回、异议、作废的原因",
        "en": "What was done, the re-inspection's finding, or why it is failed, disputed or void",
    },
    "issue_reason_needed": {"zh": "此操作需要填写原因。", "en": "This step needs a reason."},
    "issue_add_photo": {"zh": "上传照片", "en": "Add a photo"},
    "issue_add_comment": {"zh": "添加记录", "en": "Add comment"},
    "issue_refused": {"zh": "操作未完成", "en": "Not done"},
    "issue_done": {"zh": "已完成：{action}", "en": "Done: {action}"},
    "photo_too_large": {"zh": "照片超过 20 MB。", "en": "The photo is larger than 20 MB."},
    "hazard_minor": {"zh": "一般隐患", "en": "General hazard"},
    "hazard_major": {"zh": "重大隐患", "en": "Major hazard"},
    "issue_treatment_plan": {
        "zh": "治理方案（重大隐患必填）",
        "en": "Treatment plan (required for a major hazard)",
    },
    "photo_not_added": {"zh": "照片未能上传", "en": "the photo was not added"},
    "action_submit": {"zh": "下发整改", "en": "Open"},
    "action_reply": {"zh": "整改完成，提交复查", "en": "Rectified: ask for re-inspection"},
    "action_reinspect_pass": {"zh": "复查通过", "en": "Re-inspection passed"},
    "action_reinspect_fail": {"zh": "复查不通过", "en": "Re-inspection failed"},
    "action_dispute": {"zh": "提出异议", "en": "Dispute"},
    "action_uphold": {"zh": "驳回异议", "en": "Uphold"},
    "action_void": {"zh": "作废", "en": "Void"},
}


def text(key: str, language: str) -> str:
    """The string ``key`` in ``language`` (unknown languages get the default one).

    Raises ``KeyError`` for a key the catalogue lacks: a missing string is a bug the tests
    must catch, not something to paper over with the key itself.
    """
    entry = CATALOGUE[key]
    return entry.get(language) or entry[DEFAULT_LANGUAGE]


def labels(language: str) -> dict[str, str]:
    """Every string in one language (what the three.js component receives)."""
    return {key: text(key, language) for key in CATALOGUE}
