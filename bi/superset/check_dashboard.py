"""Open the NPS dashboard in headless Chromium as a person would, and report what it shows.

    .venv-bi/bin/python bi/superset/check_dashboard.py --url http://127.0.0.1:8088 --expect 29.8 --screenshot nps.png

Logs in, opens /superset/dashboard/nps/, waits until every --expect text is on the page (or the
time runs out), saves a screenshot and prints a JSON report: texts found and missing, the error
messages any chart shows, and the page's text. Exits 1 if a text is missing or a chart shows an error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHART_ERRORS = "[role=alert], .alert-danger, .ant-alert-error"


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800"):
        options.add_argument(argument)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--expect", action="append", default=[], help="a text the dashboard must show (repeatable)")
    parser.add_argument("--screenshot", default="nps_dashboard.png")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    driver = browser()
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(f"{args.url}/login/")
        wait.until(expected_conditions.presence_of_element_located((By.ID, "username")))
        driver.find_element(By.ID, "username").send_keys(os.environ.get("NPS_BI_ADMIN_USER", "admin"))
        driver.find_element(By.ID, "password").send_keys(os.environ.get("NPS_BI_ADMIN_PASSWORD", "admin"))
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: "/login" not in d.current_url)
        driver.get(f"{args.url}/superset/dashboard/nps/")
        deadline = time.monotonic() + args.timeout
        while True:
            text = driver.find_element(By.TAG_NAME, "body").text
            missing = [e for e in args.expect if e not in text]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(1)
        time.sleep(2)  # let the last chart finish drawing before the picture
        errors = [e.text for e in driver.find_elements(By.CSS_SELECTOR, CHART_ERRORS) if e.text.strip()]
        driver.save_screenshot(args.screenshot)
        text = driver.find_element(By.TAG_NAME, "body").text
    finally:
        driver.quit()
    report = {"found": [e for e in args.expect if e in text], "missing": missing, "chart_errors": errors, "text": text}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if not missing and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
