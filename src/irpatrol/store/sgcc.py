"""State Grid (SGCC) remote-patrol code tables and the mapping of irpatrol's records onto them.

The codes are those of the remote-patrol data model (Q/GDW 12164-2021 变电站远程智能巡视系统
技术规范 and the platforms implementing its interface), as collected in
``/work/shared/reference/domain.md`` §1.12 from public code implementing the interface
(sources [C10]–[C12] there; verification V for the codes listed).  Where the sources give
names but no numbers (defect states, review state), irpatrol numbers them itself and says so
in :data:`SOURCES`; those columns are irpatrol's, not SGCC's.

Only data and small pure functions live here: the exports (:mod:`irpatrol.store.exports`)
derive the codes when writing, nothing is stored twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "recognition_type": "SGCC remote-patrol model, domain.md §1.12 [C10]-[C12] (V)",
        "file_type": "SGCC remote-patrol model, domain.md §1.12 [C10]-[C12] (V)",
        "data_type": "SGCC remote-patrol model, domain.md §1.12 [C10]-[C12] (V); handheld has no SGCC code",
        "phase_type": "SGCC remote-patrol model, domain.md §1.12 [C10]-[C12] (V)",
        "valid": "SGCC remote-patrol model 巡视结论/数据状态, domain.md §1.12 [C10]-[C12] (V)",
        "heating_type": "SGCC remote-patrol model 制热类型 (names only), domain.md §1.12 (V)",
        "device_type": "SGCC remote-patrol model 设备类型: only the codes listed in domain.md §1.12 "
        "(1, 4-8, 12, 13, 30 of 30 classes) are known; others are passed through as given",
        "defect_state": "names 未消缺/消缺中/已消缺 from domain.md §1.12 (V); the numbers 0/1/2 are "
        "irpatrol's (lifecycle order), no SGCC numbering was seen",
        "check_status": "review field name from domain.md §1.12 (V); 0 未审核 / 1 已审核 is irpatrol's",
        "grade": "DL/T 664 defect levels 正常/一般/严重/危急; code = irpatrol grade_value (0-3, -1 未判定)",
    }
)
"""Where each code table comes from, and which numbers are irpatrol's own."""

RECOGNITION_TYPES: Mapping[int, str] = MappingProxyType(
    {
        1: "表计读取",
        2: "位置状态识别",
        3: "设备外观查看",
        4: "红外测温",
        5: "声音检测",
        6: "闪烁检测",
        11: "局放超声波",
        12: "局放地电压",
        13: "局放特高频",
        101: "环境温度",
        102: "环境湿度",
        103: "氧气浓度",
        104: "SF6浓度",
    }
)
"""识别类型 recognition_type; every irpatrol finding is 4 (infrared temperature measurement)."""

RECOGNITION_INFRARED = 4

FILE_TYPES: Mapping[int, str] = MappingProxyType(
    {1: "红外图谱", 2: "可见光照片", 3: "音频", 4: "视频", 5: "识别图片"}
)
"""文件类型 file_type; irpatrol's captures are 1 (infrared image)."""

FILE_INFRARED = 1

DATA_TYPES: Mapping[int, str] = MappingProxyType(
    {1: "摄像头", 2: "机器人", 4: "无人机", 8: "声纹", 16: "在线监测"}
)
"""数据来源 data_type (bit values)."""

DATA_SOURCE_CODES: Mapping[str, int | None] = MappingProxyType(
    {"camera": 1, "robot": 2, "drone": 4, "acoustic": 8, "online": 16, "handheld": None}
)
"""An execution's ``data_source`` → SGCC data_type (handheld imagers have no SGCC code)."""

DATA_SOURCE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "camera": "摄像头",
        "robot": "机器人",
        "drone": "无人机",
        "acoustic": "声纹",
        "online": "在线监测",
        "handheld": "手持",
    }
)

DEFAULT_DATA_SOURCE = "robot"
"""Captures uploaded outside an execution are counted as robot data (data_type 2)."""

PHASE_TYPES: Mapping[str, int] = MappingProxyType({"ABC": 0, "A": 1, "B": 2, "C": 3})
"""phase_type: 0 三相, 1 A, 2 B, 3 C (keys are irpatrol's point ``phase`` values)."""

PHASE_NAMES: Mapping[int, str] = MappingProxyType({0: "三相", 1: "A相", 2: "B相", 3: "C相"})

VALID_CODES: Mapping[int, str] = MappingProxyType(
    {0: "失败", 1: "正常", 2: "判别异常", 3: "告警(缺陷)", 4: "漏检", 10: "误报"}
)
"""valid 巡视结论 / status 数据状态."""

HEATING_TYPE_NAMES: Mapping[str, str] = MappingProxyType(
    {"current": "电流致热型", "voltage": "电压致热型", "combined": "综合致热型"}
)
"""制热类型 (the SGCC model names them; irpatrol grades current and voltage heating)."""

DEVICE_TYPES: Mapping[int, str] = MappingProxyType(
    {
        1: "油浸式变压器(电抗器)",
        4: "隔离开关",
        5: "开关柜",
        6: "电流互感器",
        7: "电压互感器",
        8: "避雷器",
        12: "母线及绝缘子",
        13: "穿墙套管",
        30: "消防系统",
    }
)
"""设备类型 device_type: the codes seen in the sources (30 classes exist; the others are unknown here)."""

DEVICE_TYPE_MAX = 30

GRADE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "normal": "正常",
        "general": "一般缺陷",
        "serious": "严重缺陷",
        "critical": "危急缺陷",
        "not_graded": "未判定",
    }
)
"""DL/T 664 defect levels in Chinese."""

DEFECT_STATES: Mapping[str, tuple[int, str]] = MappingProxyType(
    {"open": (0, "未消缺"), "in_repair": (1, "消缺中"), "closed": (2, "已消缺")}
)
"""Defect lifecycle → (irpatrol's number, SGCC name)."""

CHECK_STATUSES: Mapping[int, str] = MappingProxyType({0: "未审核", 1: "已审核"})

REVIEW_NAMES: Mapping[str, str] = MappingProxyType(
    {"unreviewed": "未审核", "confirmed": "确认", "false_alarm": "误报", "corrected": "已修正"}
)


def device_type_code(value: str | None) -> int | None:
    """The SGCC device-type code of a stored ``device_type`` (a code or a known name), else ``None``."""
    if value is None:
        return None
    v = value.strip()
    if v.isdigit():
        return int(v)
    for code, name in DEVICE_TYPES.items():
        if v == name:
            return code
    return None


def device_type_name(value: str | None) -> str | None:
    """A readable device type: the SGCC name for a known code, else the value as stored."""
    if value is None:
        return None
    code = device_type_code(value)
    if code is not None and code in DEVICE_TYPES:
        return DEVICE_TYPES[code]
    return None if value.strip().isdigit() else value


def data_type_code(data_source: str | None) -> int | None:
    """SGCC data_type of an execution's data source (robot when there is no execution)."""
    return DATA_SOURCE_CODES.get(data_source or DEFAULT_DATA_SOURCE)


def phase_type_code(phase: str | None) -> int | None:
    """SGCC phase_type of a point's phase (``A``/``B``/``C``/``ABC``), ``None`` when unknown."""
    return PHASE_TYPES.get(phase.upper()) if phase else None


def effective_grade(grade: str, review_status: str, corrected_grade: str | None) -> str:
    """The grade after review: a correction's grade wins, a false alarm stays as graded (see valid)."""
    if review_status == "corrected" and corrected_grade:
        return corrected_grade
    return grade


def valid_code(grade: str, review_status: str, corrected_grade: str | None = None) -> int:
    """巡视结论 of a finding: false alarm → 10, not graded (analysis failed) → 0, normal → 1, defect → 3."""
    if review_status == "false_alarm":
        return 10
    g = effective_grade(grade, review_status, corrected_grade)
    if g == "not_graded":
        return 0
    if g == "normal":
        return 1
    return 3


def defect_state(defect_status: str | None) -> tuple[int | None, str | None]:
    """(irpatrol number, SGCC name) of a defect status; ``(None, None)`` for a non-defect."""
    if defect_status is None:
        return None, None
    return DEFECT_STATES.get(defect_status, (None, None))
