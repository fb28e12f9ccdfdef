"""Drives `dsbuild review` in Debian's headless Chromium through Selenium (chromedriver from Debian, never downloaded):
reject an image with the keyboard, relabel another, accept two more selected together, edit a question, reload; prints what it did as one JSON line.

Usage: review_browser.py URL_WITH_TOKEN KEYWORD OTHER_KEYWORD SCREENSHOT.png
"""
import json
import os
import sys
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, keyword, other, screenshot = sys.argv[1:5]
base = url.split("?")[0].rstrip("/")
options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("DSBUILD_CHROMIUM", "/usr/bin/chromium")
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service(executable_path=os.environ.get("DSBUILD_CHROMEDRIVER", "/usr/bin/chromedriver")),
                          options=options)
wait = WebDriverWait(driver, 20)
out = {"console": []}
try:
    driver.get(url)  # the app lives under /s/<token>/: every link is relative, so the token travels with navigation
    k = urllib.parse.quote(keyword)
    driver.get(f"{base}/keyword?k={k}")
    cards = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".review-item[data-kind=image]"))
    body = driver.find_element(By.TAG_NAME, "body")
    first, second = cards[0], cards[1]
    out["rejected"] = first.get_attribute("data-sha")
    body.send_keys("r")  # reject the current (first) image; the cursor moves on to the second
    wait.until(lambda d: "reject" in first.get_attribute("class").split())
    out["relabelled"] = second.get_attribute("data-sha")
    body.send_keys("l")  # relabel the second: type-ahead input
    field = wait.until(lambda d: d.find_element(By.ID, "relabel-input") if d.find_element(By.ID, "relabel-input").is_displayed() else None)
    field.send_keys(other)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#relabel-options option"))
    out["suggestions"] = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#relabel-options option")]
    field.send_keys("\n")
    wait.until(lambda d: "relabelled" in second.find_element(By.CSS_SELECTOR, ".state").text)
    # Multi-select: the cursor is on the third image; select it and the fourth with x, accept both with a.
    third, fourth = cards[2], cards[3]
    body.send_keys("x")
    body.send_keys("j")
    body.send_keys("x")
    body.send_keys("a")
    wait.until(lambda d: all("accept" in c.get_attribute("class").split() for c in (third, fourth)))
    out["accepted"] = [third.get_attribute("data-sha"), fourth.get_attribute("data-sha")]

    driver.get(f"{base}/questions?k={k}")
    questions = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".review-item[data-kind=question]"))
    # The first question still accepted: those about the rejected and relabelled images went with them, and a text
    # about an image no longer kept under the keyword cannot be edited back.
    index = next(i for i, q in enumerate(questions) if q.find_element(By.CSS_SELECTOR, ".state").text == "accepted")
    question = questions[index]
    out["question_id"] = question.get_attribute("data-id")
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(index):
        body.send_keys("j")
    body.send_keys("e")
    text = wait.until(lambda d: d.find_element(By.ID, "edit-question") if d.find_element(By.ID, "edit-form").is_displayed() else None)
    text.clear()
    text.send_keys("Which dish is shown here (edited in review)?")
    driver.find_element(By.ID, "edit-save").click()
    wait.until(lambda d: "edited in review" in d.page_source)

    driver.get(f"{base}/keyword?k={k}")  # reload: the decisions come back from the manifest
    states = {c.get_attribute("data-sha"): c.find_element(By.CSS_SELECTOR, ".state").text
              for c in wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".review-item[data-kind=image]"))}
    out["states_after_reload"] = states
    out["progress"] = driver.find_element(By.ID, "progress").text
    driver.save_screenshot(screenshot)
    out["console"] = [entry["message"] for entry in driver.get_log("browser") if entry.get("level") in ("SEVERE", "ERROR")]
finally:
    driver.quit()
print(json.dumps(out))
